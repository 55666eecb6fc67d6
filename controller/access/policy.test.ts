import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { compilePolicy, policySchema } from './policy';
import { ROLE_PERMISSIONS, roleAllows } from './roles';

describe('controller policy', () => {
  it('by default: root, ilmnadmin and SSR admin are privileged; operators, approvers and admins may act; viewers never', () => {
    const p = compilePolicy(policySchema.parse({}));
    expect(p.isPrivileged(Backend.BACKEND_LINUX, 'root')).toBe(true);
    expect(p.isPrivileged(Backend.BACKEND_LINUX, 'ilmnadmin')).toBe(true);
    expect(p.isPrivileged(Backend.BACKEND_SSR, 'admin')).toBe(true);
    expect(p.isPrivileged(Backend.BACKEND_LINUX, 'admin')).toBe(false);
    expect(p.isPrivileged(Backend.BACKEND_LINUX, 'ilmnuser')).toBe(false);
    // uid 0 under any name is a root account.
    expect(p.isPrivileged(Backend.BACKEND_LINUX, 'toor', { details: { 'linux.uid': '0' } })).toBe(true);
    expect(p.isPrivileged(Backend.BACKEND_LINUX, 'ilmnuser', { details: { 'linux.uid': '1001' } })).toBe(false);
    expect(p.isPrivileged(Backend.BACKEND_LINUX, 'ilmnuser', { details: {} })).toBe(false);
    for (const role of ['operator', 'approver', 'admin'] as const)
      expect(p.allows(role, Backend.BACKEND_LRM, 'labuser', Action.ACTION_RESET_PASSWORD)).toBe(true);
    expect(p.allows('viewer', Backend.BACKEND_LINUX, 'ilmnuser', Action.ACTION_UNLOCK)).toBe(false);
  });

  it('allows only what a rule names', () => {
    const p = compilePolicy(
      policySchema.parse({
        rules: [{ roles: ['operator'], backends: ['linux'], accounts: ['ilmnuser'], actions: ['unlock'] }],
      }),
    );
    expect(p.allows('operator', Backend.BACKEND_LINUX, 'ilmnuser', Action.ACTION_UNLOCK)).toBe(true);
    expect(p.allows('operator', Backend.BACKEND_LINUX, 'ilmnuser', Action.ACTION_RESET_PASSWORD)).toBe(false);
    expect(p.allows('operator', Backend.BACKEND_SSR, 'ilmnuser', Action.ACTION_UNLOCK)).toBe(false);
    expect(p.allows('operator', Backend.BACKEND_LINUX, 'root', Action.ACTION_UNLOCK)).toBe(false);
    expect(p.allows('admin', Backend.BACKEND_LINUX, 'ilmnuser', Action.ACTION_UNLOCK)).toBe(false);
    expect(
      compilePolicy(policySchema.parse({ rules: [] })).allows(
        'admin',
        Backend.BACKEND_LINUX,
        'ilmnuser',
        Action.ACTION_UNLOCK,
      ),
    ).toBe(false);
  });

  it('refuses bad policy settings', () => {
    expect(() => policySchema.parse({ privileged: [{ backend: 'windows', account: 'root' }] })).toThrow();
    expect(() => policySchema.parse({ rules: [{ roles: ['superuser'], accounts: ['*'] }] })).toThrow();
    expect(() => policySchema.parse({ rules: [{ roles: ['operator'], accounts: ['bad name'] }] })).toThrow();
    expect(() => policySchema.parse({ passwords: { length: 6 } })).toThrow();
  });
});

describe('role table', () => {
  it('viewer reads only; approver decides; only admin manages; unknown roles get nothing', () => {
    expect([...ROLE_PERMISSIONS.viewer].sort()).toEqual(['audit.read', 'escrow.read', 'fleet.read', 'tokens.own']);
    expect(roleAllows('approver', 'requests.decide')).toBe(true);
    expect(roleAllows('admin', 'requests.decide')).toBe(false);
    expect(roleAllows('operator', 'requests.decide')).toBe(false);
    for (const p of [
      'operators.manage',
      'tokens.manage',
      'enrollment.manage',
      'nodes.revoke',
      'nodes.label',
      'requests.cancel-any',
    ] as const) {
      expect((['viewer', 'operator', 'approver', 'admin'] as const).filter((r) => roleAllows(r, p))).toEqual(['admin']);
    }
    expect(roleAllows('root', 'fleet.read')).toBe(false);
    expect(roleAllows('__proto__', 'fleet.read')).toBe(false);
  });
});
