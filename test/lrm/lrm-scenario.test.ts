/**
 * The documented LRM v4 flow end to end against the simulator over real HTTPS: a user locks themself out
 * by failed logins, fleetpass unlocks and resets with a temporary password, the user signs in with it, is
 * forced to change it, then signs in with the new one. Plus lockout settings, expiry, and LRM 3.x.
 */
import { fakeClock } from '../../shared/clock';
import { Backend, FailureCounter, LockReason } from '../../shared/gen/fleetpass/v1/common';
import { createLrmBackend, NOTE_NEW_PASSWORD_AT_LOGIN } from '../../agent/backends/lrm';
import type { LrmSimulator } from './lrm-simulator';
import { failLogins, userChangePassword, userGet, userLogin } from './lrm-user-client';
import {
  ALICE_PASSWORD,
  BOB_PASSWORD,
  SERVICE_PASSWORD,
  SERVICE_USER,
  beyondVersionRead,
  configFor,
  startSim,
  writes,
} from './fixtures';

describe('LRM backend against the LRM 4.x simulator', () => {
  let sim: LrmSimulator;
  const clock = fakeClock('2026-03-01T08:00:00Z');

  beforeAll(async () => {
    sim = await startSim({ clock });
  });
  afterAll(() => sim.close());

  it('locks by failed logins, then unlocks and resets so the user must choose a new password', async () => {
    const backend = createLrmBackend(configFor(sim), { clock });
    const attempts = await failLogins(sim, 'alice', 5);
    expect(attempts.map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    expect((await userLogin(sim, 'alice', ALICE_PASSWORD)).status).toBe(423);

    const locked = await backend.inspect('alice');
    expect(locked).toMatchObject({
      backend: Backend.BACKEND_LRM,
      account: 'alice',
      exists: true,
      locked: true,
      failureCount: 5,
      denyThreshold: 5,
      lockPermanent: true,
      counter: FailureCounter.FAILURE_COUNTER_APPLICATION,
      mustChangePassword: false,
      lockReasons: [LockReason.LOCK_REASON_TOO_MANY_FAILURES],
    });
    expect(locked.details['lrm.version']).toBe('4.1.0');
    expect(locked.passwordExpires?.toISOString()).toBe('2026-05-30T08:00:00.000Z');

    const unlocked = await backend.unlock('alice');
    expect(unlocked.before.locked).toBe(true);
    expect(unlocked.after).toMatchObject({ locked: false, failureCount: 0, lockReasons: [] });
    expect(sim.user('alice')?.password).toBe(ALICE_PASSWORD);
    expect((await userLogin(sim, 'alice', ALICE_PASSWORD)).status).toBe(200);

    // Locked again, then one reset does both documented steps: Unlock User, then a temporary password.
    await failLogins(sim, 'alice', 5);
    const reset = await backend.resetPassword('alice', 'Temp-Alice-9x', { temporary: true });
    expect(reset.before.locked).toBe(true);
    expect(reset.after).toMatchObject({ locked: false, mustChangePassword: true, failureCount: 0 });
    expect(reset.notes).toContain(NOTE_NEW_PASSWORD_AT_LOGIN);
    expect(reset.notes).toContain('the LRM account was unlocked');

    expect((await userLogin(sim, 'alice', ALICE_PASSWORD)).status).toBe(401);
    const temp = await userLogin(sim, 'alice', 'Temp-Alice-9x');
    expect(temp.status).toBe(200);
    expect(temp.body.mustChangePassword).toBe(true);
    const token = String(temp.body.token);
    expect((await userGet(sim, '/api/users', token)).body.error).toBe('password_change_required');
    expect((await userChangePassword(sim, token, 'Temp-Alice-9x', 'Alice-New-Pass-3')).status).toBe(204);

    const fresh = await userLogin(sim, 'alice', 'Alice-New-Pass-3');
    expect(fresh).toMatchObject({ status: 200, body: { mustChangePassword: false } });
    const after = await backend.inspect('alice');
    expect(after).toMatchObject({ locked: false, mustChangePassword: false, failureCount: 0 });
  });

  it('unlocking an account that is not locked changes nothing and says so', async () => {
    const backend = createLrmBackend(configFor(sim), { clock });
    const before = writes(sim).length;
    const result = await backend.unlock('bob');
    expect(result.before.locked).toBe(false);
    expect(result.after.locked).toBe(false);
    expect(result.notes).toEqual(['the LRM account was not locked; nothing was changed']);
    expect(writes(sim).length).toBe(before);
  });

  it('clears a partial failure count on unlock (below the lockout)', async () => {
    const backend = createLrmBackend(configFor(sim), { clock });
    await failLogins(sim, 'bob', 2);
    const result = await backend.unlock('bob');
    expect(result.before).toMatchObject({ locked: false, failureCount: 2 });
    expect(result.after.failureCount).toBe(0);
    expect((await userLogin(sim, 'bob', BOB_PASSWORD)).status).toBe(200);
  });

  it('reports a missing user, refuses to change it, and validates names before sending anything', async () => {
    const backend = createLrmBackend(configFor(sim), { clock });
    const missing = await backend.inspect('nobody');
    expect(missing).toMatchObject({ exists: false, backend: Backend.BACKEND_LRM });
    expect(missing.details['lrm.version']).toBe('4.1.0');
    const writesBefore = writes(sim).length;
    await expect(backend.unlock('nobody')).rejects.toMatchObject({ code: 'FP_ACCOUNT_NOT_FOUND' });
    await expect(backend.resetPassword('nobody', 'Whatever-123')).rejects.toMatchObject({
      code: 'FP_ACCOUNT_NOT_FOUND',
    });
    expect(writes(sim).length).toBe(writesBefore);

    const count = sim.requests.length;
    await expect(backend.unlock('../users')).rejects.toMatchObject({ code: 'FP_ACCOUNT_NAME_INVALID' });
    await expect(backend.resetPassword('alice', '')).rejects.toMatchObject({ code: 'FP_SECRET_MISSING' });
    expect(sim.requests.length).toBe(count);
  });

  it('lists LRM accounts so they can be shown beside the Linux ones', async () => {
    const backend = createLrmBackend(configFor(sim), { clock });
    expect((await backend.listAccounts()).sort()).toEqual(['alice', 'bob', 'fpservice']);
    expect(backend.describe()).toMatchObject({ backend: Backend.BACKEND_LRM });
  });
});

describe('LRM lockout settings and password expiry', () => {
  it('follows the allowed login attempts LRM is configured with', async () => {
    const sim = await startSim({ allowedLoginAttempts: 3 });
    try {
      await failLogins(sim, 'alice', 2);
      const backend = createLrmBackend(configFor(sim));
      expect(await backend.inspect('alice')).toMatchObject({ locked: false, failureCount: 2, denyThreshold: 3 });
      await failLogins(sim, 'alice', 1);
      expect(await backend.inspect('alice')).toMatchObject({ locked: true, failureCount: 3, denyThreshold: 3 });
    } finally {
      await sim.close();
    }
  });

  it('reports an expired password (90 days by default) and LRM asks for a new one at login', async () => {
    const clock = fakeClock('2026-01-01T00:00:00Z');
    // The service account's own password was changed later, so it has not expired (see the failure tests for that case).
    const sim = await startSim({
      clock,
      users: [
        {
          username: SERVICE_USER,
          password: SERVICE_PASSWORD,
          role: 'admin',
          passwordLastChanged: new Date('2026-03-15T00:00:00Z'),
        },
        { username: 'bob', password: BOB_PASSWORD },
      ],
    });
    try {
      const backend = createLrmBackend(configFor(sim), { clock });
      clock.advance(89 * 86_400_000);
      const fresh = await backend.inspect('bob');
      expect(fresh.details['lrm.password_expired']).toBeUndefined();
      expect((await userLogin(sim, 'bob', BOB_PASSWORD)).body.mustChangePassword).toBe(false);

      clock.advance(2 * 86_400_000);
      const expired = await backend.inspect('bob');
      expect(expired.details['lrm.password_expired']).toBe('true');
      expect(expired.passwordExpires?.toISOString()).toBe('2026-04-01T00:00:00.000Z');
      expect(expired.locked).toBe(false);
      expect(await userLogin(sim, 'bob', BOB_PASSWORD)).toMatchObject({
        status: 200,
        body: { mustChangePassword: true, reason: 'password_expired' },
      });
    } finally {
      await sim.close();
    }
  });
});

describe('LRM 3.x', () => {
  let sim: LrmSimulator;
  beforeAll(async () => {
    sim = await startSim({ version: '3.1.0' });
  });
  afterAll(() => sim.close());

  it('refuses unlock and reset with the Illumina Technical Support guidance, sending nothing but the version read', async () => {
    await failLogins(sim, 'alice', 5);
    sim.requests.length = 0;
    const backend = createLrmBackend(configFor(sim));
    for (const action of [
      () => backend.unlock('alice'),
      () => backend.resetPassword('alice', 'Temp-Alice-9x'),
      () => backend.listAccounts(),
    ]) {
      const err = await action().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'FP_LRM_UNSUPPORTED_VERSION', details: { lrmVersion: '3.1.0' } });
      expect((err as Error).message).toContain('Illumina Technical Support');
    }
    expect(sim.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /', 'GET /', 'GET /']);
    expect(sim.user('alice')).toMatchObject({ locked: true, password: ALICE_PASSWORD });
  });

  it('inspect reports the version and that existence is unknown, without signing in', async () => {
    sim.requests.length = 0;
    const state = await createLrmBackend(configFor(sim)).inspect('alice');
    expect(state).toMatchObject({
      backend: Backend.BACKEND_LRM,
      exists: false,
      counter: FailureCounter.FAILURE_COUNTER_APPLICATION,
    });
    expect(state.details).toMatchObject({ 'lrm.version': '3.1.0', 'lrm.exists': 'unknown' });
    expect(state.details['lrm.support']).toContain('Illumina Technical Support');
    expect(beyondVersionRead(sim)).toEqual([]);
  });
});
