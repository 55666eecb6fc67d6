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
      expect(p).toHaveLength(20);
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
