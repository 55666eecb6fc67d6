/**
 * End to end on real PAM: pamtester logins through pam_faillock + pam_unix in a sandbox lock real
 * accounts, and the real Linux backend (running inside the same sandbox) inspects, unlocks and resets them.
 */
import { createPamSandbox, type PamSandbox } from '../../shared/pam-sandbox';
import { FailureCounter, LockReason } from '../../shared/gen/fleetpass/v1/common';
import { startSandboxedBackend, type SandboxedBackend } from './helpers/sandboxed-backend';

const OLD = 'Old-Secret-pw1';
const NEW = 'New-Secret-pw2';
const ADMIN_PW = 'Admin-pw-3';

let sb: PamSandbox;
let backend: SandboxedBackend;

beforeAll(async () => {
  sb = await createPamSandbox({
    users: [
      { name: 'ilmnuser', password: OLD },
      { name: 'ilmnadmin', password: ADMIN_PW },
      { name: 'svcuser', password: 'Svc-pw-4' },
      { name: 'tempuser', password: 'Temp-pw-5' },
      { name: 'expired', password: 'Exp-pw-6' },
      { name: 'nopass' },
      { name: 'remote', password: 'Remote-pw-7' },
      { name: 'aging', password: 'Aging-pw-12' },
      { name: 'modlock', password: 'Modlock-pw-13' },
      { name: 'denied', password: 'Denied-pw-14' },
    ],
    deny: 3,
    unlockTime: 600,
  });
  backend = startSandboxedBackend(sb);
});

afterAll(async () => {
  await backend?.stop();
  await sb?.destroy();
});

async function faillockBytes(user: string): Promise<number> {
  return (await sb.readFile(`/run/faillock/${user}`).catch(() => Buffer.alloc(0))).length;
}

describe('pam_faillock lockout, inspected and cleared by the Linux backend', () => {
  it('locks ilmnuser after three wrong passwords, reports it exactly, and a reset restores login with the new password only', async () => {
    expect(await sb.authenticate('ilmnuser', OLD)).toBe(true);
    const t0 = Math.floor(Date.now() / 1000);
    await sb.failLogins('ilmnuser', 3);
    const t1 = Math.ceil(Date.now() / 1000);
    expect(await sb.authenticate('ilmnuser', OLD)).toBe(false); // locked for real: the right password is refused

    const state = await backend.inspect('ilmnuser');
    expect(state).toMatchObject({
      account: 'ilmnuser',
      exists: true,
      locked: true,
      lockReasons: [LockReason.LOCK_REASON_TOO_MANY_FAILURES],
      failureCount: 3,
      denyThreshold: 3,
      lockPermanent: false,
      counter: FailureCounter.FAILURE_COUNTER_FAILLOCK,
      lastFailureSource: 'fleetpass-test',
      mustChangePassword: false,
    });
    const last = state.lastFailure!.getTime() / 1000;
    expect(last).toBeGreaterThanOrEqual(t0);
    expect(last).toBeLessThanOrEqual(t1);
    expect(state.lockEnds!.getTime()).toBe(state.lastFailure!.getTime() + 600_000);
    expect(state.details['linux.uid']).toMatch(/^\d+$/);
    expect(state.details['linux.unlock_time']).toBe('600');

    // The injected clock decides "now": locked through last + 600 s, free one second later.
    expect((await backend.inspect('ilmnuser', { now: new Date(state.lastFailure!.getTime() + 600_000) })).locked).toBe(
      true,
    );
    const later = await backend.inspect('ilmnuser', { now: new Date(state.lastFailure!.getTime() + 601_000) });
    expect(later).toMatchObject({ locked: false, lockReasons: [], failureCount: 3 });
    expect(later.lockEnds).toBeUndefined();

    const shadowBefore = await sb.shadowLine('ilmnuser');
    const result = await backend.resetPassword('ilmnuser', NEW);
    expect(result.before).toMatchObject({ locked: true, failureCount: 3 });
    expect(result.after).toMatchObject({ locked: false, failureCount: 0, lockReasons: [] });
    expect(result.notes).toEqual(expect.arrayContaining(['password set', 'cleared 3 failed logins']));
    expect(await sb.shadowLine('ilmnuser')).not.toBe(shadowBefore);
    expect(await faillockBytes('ilmnuser')).toBe(0);

    expect(await sb.authenticate('ilmnuser', NEW)).toBe(true);
    expect(await sb.authenticate('ilmnuser', OLD)).toBe(false);

    // The backend logged the reset (constant message, account in a field) and never the password.
    const logs = backend.logs();
    expect(logs).toMatch(/"msg":"password reset"/);
    expect(logs).toMatch(/"account":"ilmnuser"/);
    expect(logs).not.toContain(NEW);
  });

  it('unlocks without a new password once the password is known again, and changes nothing else', async () => {
    await sb.failLogins('ilmnadmin', 3);
    expect(await sb.authenticate('ilmnadmin', ADMIN_PW)).toBe(false);
    const shadow = await sb.shadowLine('ilmnadmin');

    const result = await backend.unlock('ilmnadmin');
    expect(result.before).toMatchObject({
      locked: true,
      failureCount: 3,
      lockReasons: [LockReason.LOCK_REASON_TOO_MANY_FAILURES],
    });
    expect(result.after).toMatchObject({ locked: false, failureCount: 0 });
    expect(result.notes).toEqual(['cleared 3 failed logins']);
    expect(await sb.shadowLine('ilmnadmin')).toBe(shadow);
    expect(await sb.authenticate('ilmnadmin', ADMIN_PW)).toBe(true);

    // Idempotent: a second unlock finds nothing to do and writes nothing.
    const again = await backend.unlock('ilmnadmin');
    expect(again.before.locked).toBe(false);
    expect(again.notes).toEqual(['nothing to unlock: no failed logins and no password lock']);
    expect(await sb.shadowLine('ilmnadmin')).toBe(shadow);
  });

  it('reports and removes a `passwd -l` lock', async () => {
    expect((await sb.exec(['passwd', '-l', 'svcuser'])).code).toBe(0);
    expect(await sb.shadowLine('svcuser')).toMatch(/^svcuser:!/);
    expect(await sb.authenticate('svcuser', 'Svc-pw-4')).toBe(false);

    const state = await backend.inspect('svcuser');
    expect(state).toMatchObject({
      locked: true,
      lockReasons: [LockReason.LOCK_REASON_PASSWORD_LOCKED],
      lockPermanent: true,
      failureCount: 1,
    });
    expect(state.lockEnds).toBeUndefined();

    const result = await backend.unlock('svcuser');
    expect(result.notes).toEqual(expect.arrayContaining(['cleared 1 failed login', 'removed the password lock']));
    expect(result.after).toMatchObject({ locked: false, lockReasons: [], lockPermanent: false });
    expect(await sb.shadowLine('svcuser')).toMatch(/^svcuser:\$/);
    expect(await sb.authenticate('svcuser', 'Svc-pw-4')).toBe(true);
  });

  it('a reset also clears a password lock (chpasswd replaces the locked hash)', async () => {
    await sb.exec(['passwd', '-l', 'svcuser']);
    const result = await backend.resetPassword('svcuser', 'Svc-new-pw-8');
    expect(result.before.lockReasons).toContain(LockReason.LOCK_REASON_PASSWORD_LOCKED);
    expect(result.after.locked).toBe(false);
    expect(await sb.authenticate('svcuser', 'Svc-new-pw-8')).toBe(true);
  });

  it('with temporary: true the user must choose a new password at the next login (chage -d 0)', async () => {
    const result = await backend.resetPassword('tempuser', 'Temp-new-pw-9', { temporary: true });
    expect(result.after).toMatchObject({ locked: false, mustChangePassword: true });
    expect(result.notes).toContain('the user must choose a new password at the next login');
    expect((await sb.shadowLine('tempuser'))!.split(':')[2]).toBe('0');
    expect(await sb.authenticate('tempuser', 'Temp-new-pw-9')).toBe(true);
    // pam_unix's account phase now demands a new password.
    const acct = await sb.exec(['pamtester', sb.service, 'tempuser', 'authenticate', 'acct_mgmt'], {
      input: 'Temp-new-pw-9\n',
    });
    expect(acct.code).not.toBe(0);
  });

  it('records the remote host of a failure as its source', async () => {
    await sb.failLogins('remote', 2, { rhost: '10.20.30.40' });
    const state = await backend.inspect('remote');
    expect(state).toMatchObject({ locked: false, failureCount: 2, lastFailureSource: '10.20.30.40' });
  });

  it('throws FP_STILL_LOCKED when the account stays unusable after a reset (expired account)', async () => {
    expect((await sb.exec(['usermod', '--expiredate', '1970-01-02', 'expired'])).code).toBe(0);
    const state = await backend.inspect('expired');
    expect(state).toMatchObject({
      locked: true,
      lockReasons: [LockReason.LOCK_REASON_ACCOUNT_EXPIRED],
      lockPermanent: true,
    });
    await expect(backend.resetPassword('expired', 'Exp-new-pw-10')).rejects.toMatchObject({
      code: 'FP_STILL_LOCKED',
      message: expect.stringMatching(/account expired/),
    });
    // Unlock is not responsible for expiry: it succeeds and says so.
    const unlock = await backend.unlock('expired');
    expect(unlock.after.locked).toBe(true);
    expect(unlock.notes.join(' ')).toMatch(/unlock does not change expiry/);
  });

  it('refuses to unlock an account with no password behind its lock, and changes nothing', async () => {
    const shadow = await sb.shadowLine('nopass');
    expect(shadow).toMatch(/^nopass:!:/);
    await sb.failLogins('nopass', 3);
    await expect(backend.unlock('nopass')).rejects.toMatchObject({ code: 'FP_LINUX_NO_PASSWORD' });
    expect(await sb.shadowLine('nopass')).toBe(shadow);
    expect(await faillockBytes('nopass')).toBe(3 * 64);
  });

  it('reports password aging from shadow and a reset renews it', async () => {
    expect(
      (await sb.exec(['chage', '--lastday', '2020-01-01', '--maxdays', '90', '--inactive', '10', 'aging'])).code,
    ).toBe(0);
    const state = await backend.inspect('aging');
    expect(state).toMatchObject({
      locked: true,
      lockReasons: [LockReason.LOCK_REASON_PASSWORD_EXPIRED],
      mustChangePassword: true,
      lockPermanent: true,
    });
    expect(state.passwordChanged).toEqual(new Date('2020-01-01T00:00:00Z'));
    expect(state.passwordExpires).toEqual(new Date('2020-03-31T00:00:00Z'));
    expect(await sb.authenticate('aging', 'Aging-pw-12')).toBe(true); // authentication alone passes; the account phase refuses
    expect((await sb.exec(['pamtester', sb.service, 'aging', 'acct_mgmt'])).code).not.toBe(0);

    const result = await backend.resetPassword('aging', 'Aging-new-pw-15');
    expect(result.after).toMatchObject({ locked: false, mustChangePassword: false, lockReasons: [] });
    expect(result.after.passwordExpires!.getTime()).toBeGreaterThan(Date.now() + 80 * 86_400_000);
    expect((await sb.exec(['pamtester', sb.service, 'aging', 'acct_mgmt'])).code).toBe(0);
  });

  it('removes a password lock with usermod -U when configured', async () => {
    await sb.exec(['usermod', '-L', 'modlock']);
    const result = await backend.unlock('modlock', { config: { unlockCommand: 'usermod' } });
    expect(result.notes).toContain('removed the password lock');
    expect(await sb.authenticate('modlock', 'Modlock-pw-13')).toBe(true);
  });

  it('reports a failing chpasswd as FP_COMMAND_FAILED without the password, and clears nothing', async () => {
    const pamChpasswd = await sb.readFile('/etc/pam.d/chpasswd');
    await sb.writeFile('/etc/pam.d/chpasswd', 'password requisite pam_deny.so\n');
    try {
      await sb.failLogins('denied', 3);
      const err = await backend.resetPassword('denied', 'Denied-new-pw-16').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'FP_COMMAND_FAILED', message: expect.stringMatching(/"chpasswd" failed/) });
      expect(JSON.stringify(err)).not.toContain('Denied-new-pw-16');
      expect(await faillockBytes('denied')).toBe(3 * 64);
      expect(await sb.authenticate('denied', 'Denied-pw-14')).toBe(false);
    } finally {
      await sb.writeFile('/etc/pam.d/chpasswd', pamChpasswd);
    }
  });

  it('exposes the primitives the SSR backend reuses', async () => {
    await sb.failLogins('remote', 1);
    expect(await backend.call('resetFailureCounter', 'remote')).toBe(3);
    expect(await backend.call('resetFailureCounter', 'remote')).toBe(0);
    await sb.exec(['passwd', '-l', 'remote']);
    expect(await backend.call('removePasswordLock', 'remote')).toBe(true);
    expect(await backend.call('removePasswordLock', 'remote')).toBe(false);
    await backend.call('setLinuxPassword', 'remote', { password: 'Remote-new-11' });
    expect(await sb.authenticate('remote', 'Remote-new-11')).toBe(true);
  });
});

describe('a second sandbox with the policy only in faillock.conf and unlock_time=never', () => {
  let sb2: PamSandbox;
  let backend2: SandboxedBackend;
  beforeAll(async () => {
    sb2 = await createPamSandbox({
      users: [{ name: 'ilmnuser', password: OLD }],
      deny: 2,
      unlockTime: 'never',
      argsInService: false,
    });
    backend2 = startSandboxedBackend(sb2);
  });
  afterAll(async () => {
    await backend2?.stop();
    await sb2?.destroy();
  });

  it('is independent of the first sandbox', async () => {
    expect(sb2.pid).not.toBe(sb.pid);
    expect(await sb2.authenticate('ilmnuser', OLD)).toBe(true);
    expect(await sb.authenticate('ilmnuser', OLD)).toBe(false);
  });

  it('reads deny and unlock_time from faillock.conf and reports a permanent lock', async () => {
    await sb2.failLogins('ilmnuser', 2);
    expect(await sb2.authenticate('ilmnuser', OLD)).toBe(false);
    const state = await backend2.inspect('ilmnuser', { now: new Date(Date.now() + 86_400_000) });
    expect(state).toMatchObject({ locked: true, failureCount: 2, denyThreshold: 2, lockPermanent: true });
    expect(state.lockEnds).toBeUndefined();
    expect(state.details['linux.unlock_time']).toBe('never');
    await backend2.unlock('ilmnuser');
    expect(await sb2.authenticate('ilmnuser', OLD)).toBe(true);
  });

  it('with the counter forced, reads only that counter from the login services and faillock.conf', async () => {
    await sb2.failLogins('ilmnuser', 2);
    const forced = { counter: 'faillock' as const, pamServices: [sb2.service] };
    const state = await backend2.inspect('ilmnuser', { config: forced });
    expect(state).toMatchObject({
      locked: true,
      failureCount: 2,
      denyThreshold: 2,
      counter: FailureCounter.FAILURE_COUNTER_FAILLOCK,
    });
    expect(state.details['linux.counter_source']).toBe('forced by config (counter: faillock)');
    expect(Object.keys(state.details).some((k) => k.startsWith('linux.pam.'))).toBe(false);
    expect((await backend2.unlock('ilmnuser', { config: forced })).notes).toEqual(['cleared 2 failed logins']);
    expect(await sb2.authenticate('ilmnuser', OLD)).toBe(true);
  });
});
