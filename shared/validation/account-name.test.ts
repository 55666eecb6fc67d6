import { accountNameProblem, accountNameSchema, assertAccountName } from './account-name';

describe('account names', () => {
  it.each(['ilmnuser', 'ilmnadmin', 'root', 'admin', 'svc_lab-2', 'a.b'])('accepts %s', (n) => {
    expect(assertAccountName(n)).toBe(n);
  });

  it.each(['../x', 'root;id', '-rf', '', 'a'.repeat(300), 'a b', 'x/y', '$(id)', '..', 'näme', 'a\nb'])(
    'refuses %j',
    (n) => {
      expect(accountNameProblem(n)).toBeDefined();
      expect(() => assertAccountName(n)).toThrow(expect.objectContaining({ code: 'FP_ACCOUNT_NAME_INVALID' }));
    },
  );

  it('gives config schemas the same rule and sentence', () => {
    expect(accountNameSchema.parse('ilmnuser')).toBe('ilmnuser');
    for (const bad of ['root;id', '', '..', 'a'.repeat(33)]) {
      const r = accountNameSchema.safeParse(bad);
      expect(r.success).toBe(false);
      expect(r.error?.issues.map((i) => i.message)).toEqual([accountNameProblem(bad)]);
    }
    expect(accountNameSchema.safeParse(7).success).toBe(false);
  });
});
