/**
 * The problem this backend exists for: on an SSR, a password set only in Linux is lost when 128T restarts;
 * one set through fleetpass (one-time Linux password, then a change through the SSR) survives. Real PAM
 * (pamtester in a sandbox) decides every "can this user log in".
 */
import { LockReason } from '../../shared/gen/fleetpass/v1/common';
import { LINUX_ONLY_NOTE, STORED_NOTE } from '../../agent/backends/ssr';
import { startSsrRouter, type SsrRouter } from './helpers/ssr-router';

const OLD = { alice: 'Alice-old-pw1!', bob: 'Bob-old-pw12!', carol: 'Carol-old-pw1!', dan: 'Dan-old-pw12!' };

let router: SsrRouter;

beforeAll(async () => {
  router = await startSsrRouter([
    { name: 'alice', password: OLD.alice },
    { name: 'bob', password: OLD.bob },
    { name: 'carol', password: OLD.carol, role: 'admin' },
    { name: 'dan', password: OLD.dan },
  ]);
});
afterAll(async () => {
  await router?.destroy();
});

describe('inspect', () => {
  it('reports the Linux side, 128T and the SSR store entry', async () => {
    const state = await router.backend.inspect('carol');
    expect(state).toMatchObject({ account: 'carol', exists: true, locked: false, failureCount: 0, denyThreshold: 6 });
    expect(state.details).toMatchObject({
      'ssr.service': 'active',
      'ssr.store': 'present',
      'ssr.role': 'admin',
      'ssr.enabled': 'true',
      'ssr.authenticationType': 'local',
    });
    expect((await router.backend.inspect('alice')).details['ssr.role']).toBe('user');
  });
});

describe('reset through the SSR', () => {
  it('survives an SSR restart, even for a user locked by failed logins', async () => {
    await router.sb.failLogins('alice', 6);
    expect((await router.backend.inspect('alice')).lockReasons).toEqual([LockReason.LOCK_REASON_TOO_MANY_FAILURES]);

    const result = await router.backend.resetPassword('alice', 'Alice-New#2026');
    expect(result.before).toMatchObject({ locked: true, failureCount: 6 });
    expect(result.after).toMatchObject({ locked: false, failureCount: 0 });
    expect(result.notes).toContain(STORED_NOTE);
    // The SSR store holds exactly what Linux holds.
    expect(router.sim.user('alice')!.hash).toBe((await router.shadowLine('alice'))!.split(':')[1]);
    // The change went through the SSR as the user, with the old (one-time) password.
    expect(router.sim.requests.filter((r) => r.path === '/api/v1/user/alice')).toEqual([
      { method: 'PATCH', path: '/api/v1/user/alice', status: 200 },
    ]);

    await router.sim.restart();
    expect(await router.authenticate('alice', 'Alice-New#2026')).toBe(true);
    expect(await router.authenticate('alice', OLD.alice)).toBe(false);
  });

  it('whereas a Linux-only chpasswd is lost at the restart (the simulator models the problem)', async () => {
    await router.sb.setPassword('bob', 'Bob-Linux-only1!');
    expect(await router.authenticate('bob', 'Bob-Linux-only1!')).toBe(true);

    await router.sim.restart();
    expect(await router.authenticate('bob', 'Bob-Linux-only1!')).toBe(false);
    expect(await router.authenticate('bob', OLD.bob)).toBe(true);
  });

  it('needs no SSR administrator: with the user list off (or unreadable) the reset still goes through the SSR', async () => {
    const unreadable = await router.backend.inspect(
      'dan',
      router.config({ userList: { keyFile: '/nonexistent/pdc_ssh_key' } }),
    );
    expect(unreadable.details).toMatchObject({ 'ssr.store': 'unknown', 'ssr.storeError': 'FP_CONFIG_UNREADABLE' });

    await router.backend.resetPassword('dan', 'Dan-New#2026xy', {
      config: router.config({ userList: { enabled: false } }),
    });
    await router.sim.restart();
    expect(await router.authenticate('dan', 'Dan-New#2026xy')).toBe(true);
  });

  it('keeps no password in the logs or the result', async () => {
    const result = await router.backend.resetPassword('carol', 'Carol-New#2026');
    const everything = JSON.stringify(result) + router.backend.logs();
    expect(everything).not.toContain('Carol-New#2026');
    expect(everything).not.toContain(OLD.carol);
    expect(router.backend.logs()).toContain('ssr reset done');
    expect(LINUX_ONLY_NOTE).toMatch(/lost at the next SSR restart/);
  });
});
