/**
 * Lockout on an SSR is pam_faillock: failed web (REST) and SSH logins count together, 6 lock the account,
 * and unlock clears this node's counter and nothing else — with or without 128T running.
 */
import { request } from 'node:https';
import { createHash } from 'node:crypto';
import { LockReason } from '../../shared/gen/fleetpass/v1/common';
import { HA_NOTE } from '../../agent/backends/ssr';
import { startSsrRouter, type SsrRouter } from './helpers/ssr-router';

const PW = { kim: 'Kim-right-pw1!', lee: 'Lee-right-pw1!' };
let router: SsrRouter;

beforeAll(async () => {
  router = await startSsrRouter([
    { name: 'kim', password: PW.kim },
    { name: 'lee', password: PW.lee },
  ]);
});
afterAll(async () => {
  await router?.destroy();
});

/** A sign-in to the SSR web API, as the GUI does it; resolves with the HTTP status. */
function webLogin(username: string, password: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ username, password });
    const req = request(
      `${router.sim.baseUrl}/api/v1/login`,
      { method: 'POST', ca: router.sim.caPem, headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function secretsOf(user: string): Promise<string> {
  return createHash('sha256')
    .update(`${await router.shadowLine(user)}|${router.sim.user(user)?.hash}`)
    .digest('hex');
}

it('counts failed web and SSH logins together and locks at 6', async () => {
  for (let i = 0; i < 3; i++) expect(await webLogin('kim', 'wrong-Password1!')).toBe(401);
  await router.sb.failLogins('kim', 3);
  const state = await router.backend.inspect('kim');
  expect(state).toMatchObject({
    locked: true,
    failureCount: 6,
    denyThreshold: 6,
    lockReasons: [LockReason.LOCK_REASON_TOO_MANY_FAILURES],
  });
  expect(state.lockEnds).toBeInstanceOf(Date);
  // Locked means locked everywhere, right password or not.
  expect(await router.authenticate('kim', PW.kim)).toBe(false);
  expect(await webLogin('kim', PW.kim)).toBe(401);
});

it('unlock clears the counter after real failed logins and changes nothing else', async () => {
  const before = await secretsOf('kim');
  const result = await router.backend.unlock('kim');
  expect(result.before).toMatchObject({ locked: true, failureCount: 6 });
  expect(result.after).toMatchObject({ locked: false, failureCount: 0, lockReasons: [] });
  expect(result.notes).toContain(HA_NOTE);
  expect(await secretsOf('kim')).toBe(before);
  expect(await router.authenticate('kim', PW.kim)).toBe(true);
  expect(await webLogin('kim', PW.kim)).toBe(200);
});

it('unlock works while 128T is stopped (the counter is Linux, not the SSR)', async () => {
  await router.sb.failLogins('lee', 6);
  await router.sim.stop();
  try {
    const result = await router.backend.unlock('lee');
    expect(result.after).toMatchObject({ locked: false, failureCount: 0 });
    expect(result.after.details['ssr.service']).toBe('inactive');
  } finally {
    await router.sim.start();
  }
  expect(await router.authenticate('lee', PW.lee)).toBe(true);
});

it('unlock of an unlocked account succeeds and changes nothing', async () => {
  const before = await secretsOf('lee');
  const result = await router.backend.unlock('lee');
  expect(result.before).toMatchObject({ locked: false, failureCount: 0 });
  expect(result.after).toMatchObject({ locked: false, failureCount: 0 });
  expect(await secretsOf('lee')).toBe(before);
});

it('refuses a bad or unknown account name', async () => {
  await expect(router.backend.unlock('../etc')).rejects.toMatchObject({ code: 'FP_ACCOUNT_NAME_INVALID' });
  await expect(router.backend.unlock('nobody-here')).rejects.toMatchObject({ code: 'FP_ACCOUNT_NOT_FOUND' });
  await expect(router.backend.resetPassword('nobody-here', 'Some-New#2026')).rejects.toMatchObject({
    code: 'FP_ACCOUNT_NOT_FOUND',
    details: { step: 'inspect' },
  });
});
