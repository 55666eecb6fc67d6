import { Action, Backend, type AccountState } from '../shared/gen/fleetpass/v1/common';
import { createPolicy, isSuperuser } from './policy';

const policy = createPolicy({
  allowRoot: false,
  accounts: [
    { backend: 'linux', account: 'ilmnuser', actions: ['unlock', 'reset_password'] },
    { backend: 'linux', account: 'svc', actions: ['refresh_state'] },
  ],
});
const uid = (n: string) => ({ details: { 'linux.uid': n } }) as unknown as AccountState;

describe('local policy', () => {
  it('allows only listed actions on listed accounts of the right backend', () => {
    expect(policy.allows(Backend.BACKEND_LINUX, 'ilmnuser', Action.ACTION_UNLOCK)).toBe(true);
    expect(policy.allows(Backend.BACKEND_LINUX, 'ilmnuser', Action.ACTION_REFRESH_STATE)).toBe(false);
    expect(policy.allows(Backend.BACKEND_LINUX, 'svc', Action.ACTION_RESET_PASSWORD)).toBe(false);
    expect(policy.allows(Backend.BACKEND_LRM, 'ilmnuser', Action.ACTION_UNLOCK)).toBe(false);
    expect(policy.allows(Backend.BACKEND_LINUX, 'ilmnadmin', Action.ACTION_UNLOCK)).toBe(false);
  });

  it('refuses with FP_POLICY_DENIED and a sentence naming the account and action', () => {
    expect(() => policy.check(Backend.BACKEND_LINUX, 'ilmnadmin', Action.ACTION_UNLOCK)).toThrow(
      expect.objectContaining({ code: 'FP_POLICY_DENIED', message: expect.stringContaining('"ilmnadmin"') }),
    );
    expect(() => policy.check(Backend.BACKEND_LINUX, 'svc', Action.ACTION_RESET_PASSWORD)).toThrow(/reset_password/);
  });

  it('refuses a listed account whose uid turns out to be 0 unless allowRoot', () => {
    expect(() => policy.check(Backend.BACKEND_LINUX, 'ilmnuser', Action.ACTION_UNLOCK, uid('1000'))).not.toThrow();
    expect(() => policy.check(Backend.BACKEND_LINUX, 'ilmnuser', Action.ACTION_UNLOCK, uid('0'))).toThrow(/uid 0/);
    const open = createPolicy({
      allowRoot: true,
      accounts: [{ backend: 'linux', account: 'root', actions: ['unlock'] }],
    });
    expect(() => open.check(Backend.BACKEND_LINUX, 'root', Action.ACTION_UNLOCK, uid('0'))).not.toThrow();
    expect(isSuperuser('root')).toBe(true);
  });

  it('describes itself for the hello, de-duplicating actions', () => {
    const p = createPolicy({
      allowRoot: false,
      accounts: [{ backend: 'linux', account: 'a', actions: ['unlock', 'unlock'] }],
    });
    expect(p.accounts).toEqual([{ backend: Backend.BACKEND_LINUX, account: 'a', actions: [Action.ACTION_UNLOCK] }]);
    expect(p.managed()).toEqual([{ backend: Backend.BACKEND_LINUX, account: 'a' }]);
  });
});
