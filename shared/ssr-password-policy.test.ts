import {
  assertSsrPasswordPolicy,
  checkSsrPasswordPolicy,
  editDistance,
  generateSsrPassword,
  SSR_PASSWORD_POLICY,
} from './ssr-password-policy';

describe('SSR password policy', () => {
  it('accepts a password with every class within 8-15 characters', () => {
    expect(checkSsrPasswordPolicy('Abcdef1!')).toEqual([]);
    expect(checkSsrPasswordPolicy('Abcdefghijk12#x')).toEqual([]);
  });

  it('names each missing class and a bad length', () => {
    expect(checkSsrPasswordPolicy('abc')).toEqual([
      'must be 8 to 15 characters long',
      'needs an upper-case letter',
      'needs a digit',
      'needs a special character',
    ]);
    expect(checkSsrPasswordPolicy('Abcdefghijk12#xy')).toEqual(['must be 8 to 15 characters long']);
    expect(checkSsrPasswordPolicy('ABCDEFG1!')).toEqual(['needs a lower-case letter']);
  });

  it('refuses characters a line-based tool such as chpasswd could split on', () => {
    expect(checkSsrPasswordPolicy('Abcdef1!\nroot')).toContain('may contain only printable ASCII characters');
    expect(checkSsrPasswordPolicy('Abcdéf1!')).toContain('may contain only printable ASCII characters');
  });

  it('throws FP_PASSWORD_POLICY without echoing the password', () => {
    let caught: unknown;
    try {
      assertSsrPasswordPolicy('secretpass');
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ code: 'FP_PASSWORD_POLICY', details: { step: 'policy-check' } });
    expect(String((caught as Error).message)).not.toContain('secretpass');
  });

  it('generates passwords that meet the policy', () => {
    for (let i = 0; i < 200; i++) {
      const pw = generateSsrPassword();
      expect(pw).toHaveLength(SSR_PASSWORD_POLICY.maxLength);
      expect(checkSsrPasswordPolicy(pw)).toEqual([]);
    }
    expect(generateSsrPassword({ length: 8 })).toHaveLength(8);
    expect(() => generateSsrPassword({ length: 7 })).toThrow(expect.objectContaining({ code: 'FP_INVALID_ARGUMENT' }));
  });

  it('avoids the characters of the requested password so 8 positions always change', () => {
    const requested = 'Abcdefg1234!xyZ';
    for (let i = 0; i < 200; i++) {
      const pw = generateSsrPassword({ avoid: requested });
      expect([...pw].filter((c) => requested.includes(c))).toEqual([]);
      expect(editDistance(pw, requested)).toBeGreaterThanOrEqual(SSR_PASSWORD_POLICY.minChangedPositions);
    }
  });

  it('still meets the policy when a class is entirely avoided', () => {
    const pw = generateSsrPassword({ avoid: '0123456789' });
    expect(checkSsrPasswordPolicy(pw)).toEqual([]);
  });

  it('measures edit distance like pam_pwquality difok', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('Same1!xx', 'Same1!xx')).toBe(0);
  });
});
