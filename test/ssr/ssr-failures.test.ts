/**
 * Every way an SSR reset can fail gives a stable code, the failed step and an account that can still be
 * used: refused before any change (128T down, bad password, wrong certificate, not an SSR user), or, once
 * the Linux password changed, the requested password in Linux with the "lost at the next SSR restart" note.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LockReason } from '../../shared/gen/fleetpass/v1/common';
import { createCa, issueServerCertificate, certificateFingerprint } from '../../shared/pki';
import { LINUX_ONLY_NOTE } from '../../agent/backends/ssr';
import { startSsrRouter, type SsrRouter } from './helpers/ssr-router';

const OLD = {
  dora: 'Dora-old-pw1!',
  erin: 'Erin-old-pw1!',
  fred: 'Fred-old-pw1!',
  gina: 'Gina-old-pw1!',
  hank: 'Hank-old-pw1!',
  ivan: 'Ivan-old-pw1!',
  judy: 'Judy-old-pw1!',
  olga: 'Olga-old-pw1!',
};

let router: SsrRouter;
const tmp = mkdtempSync(join(tmpdir(), 'fp-ssr-failures-'));

/** A CA file the router's certificate does not chain to. */
async function writeOtherCa(): Promise<string> {
  const path = join(tmp, 'other-ca.pem');
  writeFileSync(path, (await createCa({ commonName: 'not the router' })).certPem);
  return path;
}

beforeAll(async () => {
  router = await startSsrRouter([
    { name: 'dora', password: OLD.dora },
    { name: 'erin', password: OLD.erin },
    { name: 'fred', password: OLD.fred },
    { name: 'gina', password: OLD.gina },
    { name: 'hank', password: OLD.hank, inStore: false },
    { name: 'ivan', password: OLD.ivan, enabled: false },
    { name: 'judy', password: OLD.judy, authenticationType: 'remote' },
    { name: 'olga', password: OLD.olga },
  ]);
});
afterAll(async () => {
  await router?.destroy();
  rmSync(tmp, { recursive: true, force: true });
});

/** Everything a reset could change for `user`: the shadow line, the faillock file and the SSR store hash. */
async function footprint(user: string): Promise<Record<string, string | undefined>> {
  const faillock = await router.sb.readFile(`/run/faillock/${user}`).catch(() => Buffer.alloc(0));
  return {
    shadow: await router.shadowLine(user),
    faillock: createHash('sha256').update(faillock).digest('hex'),
    store: router.sim.user(user)?.hash,
  };
}

async function failure(
  p: Promise<unknown>,
): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  const e = await p.then(
    () => {
      throw new Error('expected the reset to fail');
    },
    (err: unknown) => err,
  );
  return e as { code: string; message: string; details: Record<string, unknown> };
}

describe('refused before anything changes', () => {
  it('refuses while 128T is not running (the change would be lost) and leaves the shadow line identical', async () => {
    await router.sb.failLogins('dora', 2);
    const before = await footprint('dora');
    await router.sim.stop();
    try {
      const state = await router.backend.inspect('dora');
      expect(state.details).toMatchObject({
        'ssr.service': 'inactive',
        'ssr.store': 'unknown',
        'ssr.storeError': 'FP_SSR_SERVICE_DOWN',
      });
      const e = await failure(router.backend.resetPassword('dora', 'Dora-New#2026'));
      expect(e).toMatchObject({
        code: 'FP_SSR_SERVICE_DOWN',
        details: { step: 'service-check', serviceState: 'inactive' },
      });
      expect(e.message).toMatch(/128T is inactive.*nothing was changed/);
      expect(await footprint('dora')).toEqual(before);
    } finally {
      await router.sim.start();
    }
    expect(await router.authenticate('dora', OLD.dora)).toBe(true);
  });

  it('refuses a password against the SSR policy before touching the router', async () => {
    const before = await footprint('dora');
    const e = await failure(router.backend.resetPassword('dora', 'short1!'));
    expect(e).toMatchObject({ code: 'FP_PASSWORD_POLICY', details: { step: 'policy-check' } });
    expect(e.message).toContain('must be 8 to 15 characters long');
    expect(await footprint('dora')).toEqual(before);
  });

  it.each([
    [
      'a pinned fingerprint that is not the router certificate',
      async () => ({
        fingerprint: certificateFingerprint(
          (await issueServerCertificate(await createCa(), { hosts: ['127.0.0.1'] })).certPem,
        ),
      }),
    ],
    ['a CA file of another CA', async () => ({ caFile: await writeOtherCa() })],
  ])('refuses a wrong TLS certificate (%s) before sending any password', async (_label, tls) => {
    const before = await footprint('erin');
    const requestsBefore = router.sim.requests.length;
    const config = router.config({ tls: await tls() });
    const e = await failure(router.backend.resetPassword('erin', 'Erin-New#2026', { config }));
    expect(e).toMatchObject({ code: 'FP_SSR_TLS_UNTRUSTED', details: { step: 'ssr-preflight' } });
    expect(e.message).toContain('nothing was changed');
    expect(router.sim.requests.length).toBe(requestsBefore);
    expect(await footprint('erin')).toEqual(before);
    expect(await router.authenticate('erin', OLD.erin)).toBe(true);
    // Inspect still answers, with the reason the store could not be read.
    expect((await router.backend.inspect('erin', config)).details).toMatchObject({
      'ssr.store': 'unknown',
      'ssr.storeError': 'FP_SSR_TLS_UNTRUSTED',
    });
  });

  it('refuses users the SSR cannot change: not in its store, disabled, or remote', async () => {
    for (const [user, code] of [
      ['hank', 'FP_SSR_USER_NOT_LOCAL'],
      ['ivan', 'FP_SSR_USER_DISABLED'],
      ['judy', 'FP_SSR_USER_NOT_LOCAL'],
    ] as const) {
      const before = await footprint(user);
      const e = await failure(router.backend.resetPassword(user, 'Some-New#2026'));
      expect(e).toMatchObject({ code, details: { step: 'ssr-preflight' } });
      expect(await footprint(user)).toEqual(before);
    }
    const ivan = await router.backend.inspect('ivan');
    expect(ivan).toMatchObject({ locked: true, lockPermanent: true, lockReasons: [LockReason.LOCK_REASON_DISABLED] });
    expect(ivan.details['ssr.enabled']).toBe('false');
    expect((await router.backend.inspect('hank')).details['ssr.store']).toBe('absent');
  });

  it('refuses a temporary password, which the SSR does not have', async () => {
    const before = await footprint('dora');
    const e = await failure(router.backend.resetPassword('dora', 'Dora-New#2026', { temporary: true }));
    expect(e.code).toBe('FP_ACTION_UNSUPPORTED');
    expect(await footprint('dora')).toEqual(before);
  });
});

describe('failures after the Linux password changed', () => {
  it('REST down right after the sign-in: Linux gets the requested password, with the restart note, which comes true', async () => {
    router.sim.injectFault('down-after-login', 'fred');
    const e = await failure(router.backend.resetPassword('fred', 'Fred-New#2026'));
    expect(e).toMatchObject({
      code: 'FP_SSR_UNREACHABLE',
      details: { step: 'ssr-change', partial: 'linux-only', notes: [LINUX_ONLY_NOTE] },
    });
    expect(e.message).toContain(LINUX_ONLY_NOTE);
    // Usable now, with the password the operator asked for...
    expect(await router.authenticate('fred', 'Fred-New#2026')).toBe(true);
    // ...and, as the note says, gone after the SSR restarts.
    await router.sim.restart();
    expect(await router.authenticate('fred', 'Fred-New#2026')).toBe(false);
    expect(await router.authenticate('fred', OLD.fred)).toBe(true);
  });

  it('an SSR internal error on the change is FP_SSR_UNEXPECTED_RESPONSE, with the same Linux-only fallback', async () => {
    router.sim.injectFault('error-on-change', 'olga');
    const e = await failure(router.backend.resetPassword('olga', 'Olga-New#2026'));
    expect(e).toMatchObject({
      code: 'FP_SSR_UNEXPECTED_RESPONSE',
      details: { step: 'ssr-change', partial: 'linux-only', httpStatus: 500 },
    });
    expect(await router.authenticate('olga', 'Olga-New#2026')).toBe(true);
    expect((await router.backend.inspect('olga')).locked).toBe(false);
  });

  it('a policy refusal by the SSR (24-hour minimum lifetime) is FP_SSR_POLICY_REFUSED, not a generic failure', async () => {
    await router.backend.resetPassword('gina', 'Gina-New#2026');
    const e = await failure(router.backend.resetPassword('gina', 'Gina-Again#27'));
    expect(e).toMatchObject({
      code: 'FP_SSR_POLICY_REFUSED',
      details: { step: 'ssr-change', partial: 'linux-only', httpStatus: 400 },
    });
    expect(e.message).toContain('24 hours');
    expect(e.message).not.toContain('Gina-Again#27');
    expect(await router.authenticate('gina', 'Gina-Again#27')).toBe(true);

    // A day later the SSR takes it, and it survives the restart.
    router.clock.advance(25 * 3600_000);
    await router.backend.resetPassword('gina', 'Gina-Again#27');
    await router.sim.restart();
    expect(await router.authenticate('gina', 'Gina-Again#27')).toBe(true);
  });
});
