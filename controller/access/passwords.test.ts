import { checkSsrPasswordPolicy } from '../../shared/ssr-password-policy';
import { Backend } from '../../shared/gen/fleetpass/v1/common';
import { assertPasswordAcceptable, generatePassword, passwordProblems } from './passwords';
import { compilePolicy, policySchema } from './policy';

const policy = compilePolicy(policySchema.parse({}));

describe('generated passwords', () => {
  it('Linux: the policy length with every class, different every time', () => {
    const rules = policy.passwordRules(Backend.BACKEND_LINUX);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = generatePassword(Backend.BACKEND_LINUX, rules);
      expect(p).toHaveLength(21); // typeable by default: one longer, as strong as 20 of the full alphabet
      expect(passwordProblems(p, Backend.BACKEND_LINUX, rules)).toEqual([]);
      expect(p).not.toMatch(/[:'"\\\s]/);
      seen.add(p);
    }
    expect(seen.size).toBe(200);
  });

  it('SSR: 15 characters at most, all four classes, accepted by the SSR backend policy', () => {
    const rules = policy.passwordRules(Backend.BACKEND_SSR);
    expect(rules.length).toBe(15);
    for (let i = 0; i < 200; i++) {
      const p = generatePassword(Backend.BACKEND_SSR, rules);
      expect(p.length).toBeLessThanOrEqual(15);
      expect(checkSsrPasswordPolicy(p)).toEqual([]);
    }
  });

  it('Linux by default: typeable (no $ % # ~ ^ ? ! * = @), one longer for the same strength as 20 of the full alphabet', () => {
    const rules = policy.passwordRules(Backend.BACKEND_LINUX);
    expect(rules.alphabet).toBe('typeable');
    for (let i = 0; i < 200; i++)
      expect(generatePassword(Backend.BACKEND_LINUX, rules)).toMatch(/^[A-Za-z2-9._+-]{21}$/);
    // 21 characters of 61 carry at least the bits of 20 of 71.
    expect(21 * Math.log2(61)).toBeGreaterThanOrEqual(20 * Math.log2(71));
    expect(20 * Math.log2(61)).toBeLessThan(20 * Math.log2(71));
  });

  it('takes another alphabet and length per account class, first match wins', () => {
    const custom = compilePolicy(
      policySchema.parse({
        passwords: {
          accountClasses: [
            {
              name: 'service-admins',
              accounts: [{ backend: 'linux', account: 'ilmnadmin' }],
              alphabet: 'full',
              length: 24,
            },
            { name: 'all-long', accounts: [{ account: '*' }], length: 30 },
          ],
        },
      }),
    );
    expect(custom.passwordRules(Backend.BACKEND_LINUX, 'ilmnadmin')).toMatchObject({ alphabet: 'full', length: 24 });
    expect(
      generatePassword(Backend.BACKEND_LINUX, custom.passwordRules(Backend.BACKEND_LINUX, 'ilmnadmin')),
    ).toHaveLength(24);
    const user = custom.passwordRules(Backend.BACKEND_LINUX, 'ilmnuser');
    expect(user).toMatchObject({ alphabet: 'typeable', length: 30 });
    expect(generatePassword(Backend.BACKEND_LINUX, user)).toMatch(/^[A-Za-z2-9._+-]{32}$/);
    expect(() =>
      policySchema.parse({
        passwords: { accountClasses: [{ name: 'x', accounts: [{ account: 'a' }], alphabet: 'emoji' }] },
      }),
    ).toThrow();
  });

  it('follows configured classes and length', () => {
    const custom = compilePolicy(policySchema.parse({ passwords: { length: 32, classes: ['lower', 'digit'] } }));
    const p = generatePassword(Backend.BACKEND_LRM, custom.passwordRules(Backend.BACKEND_LRM));
    expect(p).toMatch(/^[a-z0-9]{32}$/);
    expect(p).toMatch(/[0-9]/);
  });
});

describe('supplied passwords', () => {
  const rules = policy.passwordRules(Backend.BACKEND_LINUX);

  it('names every problem and never the password', () => {
    expect(passwordProblems('short', Backend.BACKEND_LINUX, rules)).toEqual([
      'must be at least 12 characters long',
      'needs an upper-case letter',
      'needs a digit',
      'needs a special character',
    ]);
    expect(passwordProblems('Good-Password-2026\n', Backend.BACKEND_LINUX, rules)).toEqual([
      'may not contain control characters or line breaks',
    ]);
    expect(() => assertPasswordAcceptable('secretvalue', Backend.BACKEND_LINUX, rules)).toThrow(
      expect.objectContaining({ code: 'FP_PASSWORD_POLICY', message: expect.not.stringContaining('secretvalue') }),
    );
  });

  it('SSR passwords are judged by the SSR policy (at most 15 characters)', () => {
    expect(
      passwordProblems('Long-Enough-But-Too-Long-1', Backend.BACKEND_SSR, policy.passwordRules(Backend.BACKEND_SSR)),
    ).toContain('must be 8 to 15 characters long');
    expect(passwordProblems('Router-Pw-2026', Backend.BACKEND_SSR, policy.passwordRules(Backend.BACKEND_SSR))).toEqual(
      [],
    );
  });
});
