/**
 * The SSR REST API as the simulator serves it (the documented behaviour), seen through the backend's own
 * REST client, so both the simulator's rules and the client's reading of each answer are checked.
 */
import { createHttpsTransport } from '../../agent/backends/ssr/https-transport';
import { createSsrRestClient, type SsrRestClient } from '../../agent/backends/ssr/rest-client';
import { parseSsrBackendConfig } from '../../agent/backends/ssr';
import { ADMIN, startSsrRouter, type SsrRouter } from './helpers/ssr-router';

const PW = { mia: 'Mia-right-pw1!', ned: 'Ned-right-pw1!' };
let router: SsrRouter;
let client: SsrRestClient;

beforeAll(async () => {
  router = await startSsrRouter([
    { name: 'mia', password: PW.mia },
    { name: 'ned', password: PW.ned },
  ]);
  client = createSsrRestClient(
    createHttpsTransport(
      parseSsrBackendConfig({ baseUrl: router.sim.baseUrl, tls: { fingerprint: router.sim.fingerprint } }),
    ),
  );
});
afterAll(async () => {
  client?.close();
  await router?.destroy();
});

describe('login', () => {
  it('gives a bearer token for the Linux password (PAM) and refuses a wrong one with FP_SSR_AUTH_FAILED', async () => {
    await expect(client.login('mia', { password: PW.mia })).resolves.toEqual(expect.any(String));
    const e = await client.login('mia', { password: 'Wrong-pw-123!' }).catch((x: unknown) => x);
    expect(e).toMatchObject({
      code: 'FP_SSR_AUTH_FAILED',
      details: { httpStatus: 401, ssrMessage: 'Invalid username or password', step: 'ssr-login' },
    });
    expect(String((e as Error).message)).not.toContain('Wrong-pw-123!');
  });

  it('accepts the local key for administrators only', async () => {
    await expect(client.login('admin', { localKey: router.sim.localKey })).resolves.toEqual(expect.any(String));
    await expect(client.login('mia', { localKey: router.sim.localKey })).rejects.toMatchObject({
      code: 'FP_SSR_AUTH_FAILED',
    });
    await expect(client.login('admin', { localKey: 'not the key' })).rejects.toMatchObject({
      code: 'FP_SSR_AUTH_FAILED',
    });
  });
});

describe('user list', () => {
  it('lists users with role and enabled state to an administrator', async () => {
    const token = await client.login('admin', { password: ADMIN.password });
    const users = await client.listUsers(token);
    expect(users.find((u) => u.name === 'mia')).toEqual({
      name: 'mia',
      fullName: 'mia',
      roles: ['user'],
      authenticationType: 'local',
      enabled: true,
    });
    expect(users.find((u) => u.name === 'admin')?.roles).toEqual(['admin']);
  });

  it('refuses a user without the admin role, and a missing token', async () => {
    const token = await client.login('mia', { password: PW.mia });
    await expect(client.listUsers(token)).rejects.toMatchObject({
      code: 'FP_SSR_AUTH_FAILED',
      details: { httpStatus: 403 },
    });
    await expect(client.listUsers('made-up')).rejects.toMatchObject({
      code: 'FP_SSR_AUTH_FAILED',
      details: { httpStatus: 401 },
    });
  });
});

describe('password change', () => {
  it('refuses a password without oldPassword (the documented "needs the current password")', async () => {
    const token = await client.login('admin', { password: ADMIN.password });
    const status = await rawPatch(token, 'ned', { password: 'Ned-New-pw#26' });
    expect(status).toBe(400);
    expect(await router.authenticate('ned', PW.ned)).toBe(true);
  });

  it("refuses a wrong current password, and another user's password for a non-admin", async () => {
    const mia = await client.login('mia', { password: PW.mia });
    await expect(client.changePassword(mia, 'mia', 'Not-current-1!', 'Mia-New-pw#26')).rejects.toMatchObject({
      code: 'FP_SSR_AUTH_FAILED',
      details: { httpStatus: 403 },
    });
    await expect(client.changePassword(mia, 'ned', PW.ned, 'Ned-New-pw#26')).rejects.toMatchObject({
      code: 'FP_SSR_AUTH_FAILED',
      details: { httpStatus: 403 },
    });
    await expect(client.changePassword(mia, 'nobody', 'x', 'y')).rejects.toMatchObject({
      code: 'FP_SSR_USER_NOT_LOCAL',
      details: { httpStatus: 404 },
    });
  });

  it.each([
    ['too short', 'Ab1!xyz', /between 8 and 15/],
    ['missing a special character', 'Abcdefgh12345', /special/],
    ['changed in fewer than 8 positions', 'Mia-right-pw2!', /8 characters must be changed/],
  ])('refuses a new password that is %s with FP_SSR_POLICY_REFUSED', async (_label, next, message) => {
    const token = await client.login('mia', { password: PW.mia });
    const e = await client.changePassword(token, 'mia', PW.mia, next).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'FP_SSR_POLICY_REFUSED', details: { httpStatus: 400, step: 'ssr-change' } });
    expect(String((e as Error).message)).toMatch(message);
    expect(String((e as Error).message)).not.toContain(next);
  });

  it("stores an accepted password in the SSR and Linux, ends the user's sessions, and refuses reuse", async () => {
    const token = await client.login('mia', { password: PW.mia });
    await client.changePassword(token, 'mia', PW.mia, 'Zq9#Vt7$Kw3%');
    expect(await router.authenticate('mia', 'Zq9#Vt7$Kw3%')).toBe(true);
    expect(router.sim.user('mia')!.hash).toBe((await router.shadowLine('mia'))!.split(':')[1]);
    // "Changing the current password will log this user out of all active sessions."
    await expect(client.changePassword(token, 'mia', 'Zq9#Vt7$Kw3%', PW.mia)).rejects.toMatchObject({
      code: 'FP_SSR_AUTH_FAILED',
      details: { httpStatus: 401 },
    });

    router.clock.advance(25 * 3600_000);
    const again = await client.login('mia', { password: 'Zq9#Vt7$Kw3%' });
    await client.changePassword(again, 'mia', 'Zq9#Vt7$Kw3%', PW.mia);
    router.clock.advance(25 * 3600_000);
    const third = await client.login('mia', { password: PW.mia });
    await expect(client.changePassword(third, 'mia', PW.mia, 'Zq9#Vt7$Kw3%')).rejects.toMatchObject({
      code: 'FP_SSR_POLICY_REFUSED',
    });
  });
});

/** A PATCH the client would never send (no oldPassword); resolves with the HTTP status. */
async function rawPatch(token: string, name: string, body: unknown): Promise<number> {
  const transport = createHttpsTransport(
    parseSsrBackendConfig({ baseUrl: router.sim.baseUrl, tls: { fingerprint: router.sim.fingerprint } }),
  );
  try {
    return (await transport.request('PATCH', `/api/v1/user/${name}`, { token, json: body })).status;
  } finally {
    transport.close();
  }
}
