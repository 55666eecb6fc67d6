import { accountNameProblem, assertAccountName } from './account-name';

describe('account names', () => {
  it.each(['ilmnuser', 'ilmnadmin', 'root', 'admin', 'svc_lab-2', 'a.b'])('accepts %s', (n) => {
    expect(assertAccountName(n)).toBe(n);
  });

  it.each(['../x', 'root;id', '-rf', '', 'a'.repeat(300), 'a b', 'x/y', '$(id)', '..', 'näme', 'a\nb'])('refuses %j', (n) => {
    expect(accountNameProblem(n)).toBeDefined();
    expect(() => assertAccountName(n)).toThrow(expect.objectContaining({ code: 'FP_ACCOUNT_NAME_INVALID' }));
  });
});
