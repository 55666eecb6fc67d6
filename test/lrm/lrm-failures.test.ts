/**
 * LRM failure modes over real HTTPS: wrong or expired service credential, a non-admin service account,
 * LRM down or hanging, answers of the wrong shape, untrusted certificates, and steps that fail half-way.
 * Each must give a clear registry error and leave nothing half done without saying exactly what happened.
 */
import { writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { fakeClock } from '../../shared/clock';
import { FleetpassError } from '../../shared/errors';
import { createLrmBackend } from '../../agent/backends/lrm';
import { startLrmSimulator, type LrmSimulator } from './lrm-simulator';
import { failLogins, userLogin } from './lrm-user-client';
import {
  ALICE_PASSWORD,
  BOB_PASSWORD,
  SERVICE_PASSWORD,
  SERVICE_USER,
  configFor,
  startSim,
  tempFile,
  writes,
} from './fixtures';

async function rejection(p: Promise<unknown>): Promise<FleetpassError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FleetpassError);
  return e as FleetpassError;
}

describe('LRM service account problems', () => {
  let sim: LrmSimulator;
  beforeEach(async () => {
    sim = await startSim();
  });
  afterEach(() => sim.close());

  it('a wrong service password is refused clearly and not retried, so the service account is not locked', async () => {
    const file = tempFile('lrm-password', 'not-the-password\n');
    const backend = createLrmBackend(
      configFor(sim, { serviceAccount: { username: SERVICE_USER, passwordFile: file } }),
    );
    const first = await rejection(backend.inspect('alice'));
    expect(first.code).toBe('FP_LRM_AUTH_FAILED');
    expect(first.message).toContain('wrong username or password');
    for (let i = 0; i < 6; i++)
      expect((await rejection(backend.unlock('alice'))).details).toMatchObject({ notRetried: true });
    expect(sim.requests.filter((r) => r.route === 'login')).toHaveLength(1);
    expect(sim.user(SERVICE_USER)).toMatchObject({ locked: false, failedLoginAttempts: 1 });

    // Fixing the file is picked up without a restart.
    writeFileSync(file, `${SERVICE_PASSWORD}\n`);
    expect(await backend.inspect('alice')).toMatchObject({ exists: true });
    expect(sim.user(SERVICE_USER)?.failedLoginAttempts).toBe(0);
  });

  it('a locked service account is reported as such', async () => {
    await failLogins(sim, SERVICE_USER, 5);
    const err = await rejection(createLrmBackend(configFor(sim)).unlock('alice'));
    expect(err).toMatchObject({ code: 'FP_LRM_AUTH_FAILED', details: { reason: 'locked' } });
    expect(err.message).toContain('locked or disabled');
  });

  it('a service account whose own password expired must change it first', async () => {
    const clock = fakeClock();
    await sim.close();
    sim = await startSim({ clock });
    clock.advance(91 * 86_400_000);
    const err = await rejection(createLrmBackend(configFor(sim), { clock }).inspect('alice'));
    expect(err).toMatchObject({ code: 'FP_LRM_AUTH_FAILED', details: { reason: 'must-change-password' } });
    expect(sim.requests.at(-1)?.route).toBe('logout');
  });

  it('a service account that is not an LRM administrator changes nothing', async () => {
    await failLogins(sim, 'alice', 5);
    const backend = createLrmBackend(configFor(sim, { serviceAccount: { username: 'bob', password: BOB_PASSWORD } }));
    const err = await rejection(backend.resetPassword('alice', 'Temp-Alice-9x'));
    expect(err.code).toBe('FP_LRM_NOT_ADMIN');
    expect(writes(sim)).toEqual([]);
    expect(sim.user('alice')).toMatchObject({ locked: true, password: ALICE_PASSWORD });
  });

  it('a disabled user is not touched', async () => {
    await sim.close();
    sim = await startLrmSimulator({
      users: [
        { username: SERVICE_USER, password: SERVICE_PASSWORD, role: 'admin' },
        { username: 'carol', password: 'Carol-Pass-123', disabled: true },
      ],
    });
    const backend = createLrmBackend(configFor(sim));
    const state = await backend.inspect('carol');
    expect(state).toMatchObject({ locked: true, details: { 'lrm.disabled': 'true' } });
    const err = await rejection(backend.resetPassword('carol', 'Temp-Carol-9x'));
    expect(err.code).toBe('FP_ACTION_UNSUPPORTED');
    expect(err.message).toContain('Tools > Account Management');
    expect(writes(sim)).toEqual([]);
  });
});

describe('LRM down or answering nonsense', () => {
  it('connection refused is FP_LRM_UNREACHABLE and retryable', async () => {
    const sim = await startSim();
    const config = configFor(sim);
    await sim.close();
    const err = await rejection(createLrmBackend(config).unlock('alice'));
    expect(err).toMatchObject({ code: 'FP_LRM_UNREACHABLE', retryable: true, details: { errno: 'ECONNREFUSED' } });
    expect(err.message).toContain('connection refused');
  });

  it('a hanging LRM times out with FP_LRM_UNREACHABLE', async () => {
    const sim = await startSim();
    try {
      sim.hang('loginPage');
      const err = await rejection(createLrmBackend(configFor(sim, { timeoutMs: 300 })).inspect('alice'));
      expect(err).toMatchObject({ code: 'FP_LRM_UNREACHABLE', details: { timedOut: true } });
      expect(err.message).toContain('within 300 ms');
    } finally {
      await sim.close();
    }
  });

  it('a port that accepts but never completes TLS times out and leaves no connection open', async () => {
    const open = new Set<Socket>();
    let closed: () => void = () => undefined;
    const allClosed = new Promise<void>((r) => (closed = r));
    const server = createNetServer((s) => {
      open.add(s);
      s.resume();
      s.on('close', () => {
        open.delete(s);
        if (open.size === 0) closed();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const config = {
        baseUrl: `https://127.0.0.1:${port}`,
        serviceAccount: { username: SERVICE_USER, password: SERVICE_PASSWORD },
        tls: { fingerprint: 'ab'.repeat(32) },
        timeoutMs: 300,
      };
      const err = await rejection(createLrmBackend(config).inspect('alice'));
      expect(err).toMatchObject({ code: 'FP_LRM_UNREACHABLE', details: { timedOut: true, requestSent: false } });
      // The client ends the half-open connection itself; the bound only keeps a regression from hanging.
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([allClosed, new Promise((r) => (bound = setTimeout(r, 2000)))]);
      clearTimeout(bound);
      expect(open.size).toBe(0);
    } finally {
      for (const s of open) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('answers of the wrong shape or HTML instead of JSON are FP_LRM_UNEXPECTED_RESPONSE, with nothing changed', async () => {
    const sim = await startSim();
    try {
      await failLogins(sim, 'alice', 5);
      const backend = createLrmBackend(configFor(sim));
      sim.garble('getUser', 'wrong-shape');
      const shape = await rejection(backend.unlock('alice'));
      expect(shape).toMatchObject({ code: 'FP_LRM_UNEXPECTED_RESPONSE', details: { endpoint: 'getUser' } });
      expect(shape.message).toContain('lrm.endpoints.getUser');
      expect(shape.message).not.toContain('perhaps');
      sim.garble('getUser', undefined);

      sim.garble('login', 'html');
      const html = await rejection(backend.resetPassword('alice', 'Temp-Alice-9x'));
      expect(html.code).toBe('FP_LRM_UNEXPECTED_RESPONSE');
      expect(html.message).toContain('not JSON');
      sim.garble('login', undefined);

      sim.failNext('loginPage', 500);
      expect((await rejection(backend.unlock('alice'))).code).toBe('FP_LRM_VERSION_UNKNOWN');
      expect(writes(sim)).toEqual([]);
      expect(sim.user('alice')).toMatchObject({ locked: true, password: ALICE_PASSWORD });
    } finally {
      await sim.close();
    }
  });

  it('a page without a version refuses every action', async () => {
    const sim = await startSim();
    try {
      const backend = createLrmBackend(configFor(sim, { versionPattern: 'Build (\\d+\\.\\d+)' }));
      expect((await rejection(backend.unlock('alice'))).code).toBe('FP_LRM_VERSION_UNKNOWN');
      expect((await rejection(backend.inspect('alice'))).code).toBe('FP_LRM_VERSION_UNKNOWN');
      expect(sim.requests.every((r) => r.route === 'loginPage')).toBe(true);
    } finally {
      await sim.close();
    }
  });

  it('uses overridden endpoints, and says which endpoint to check when the table does not fit', async () => {
    const sim = await startSim({ apiPrefix: '/lrm/v4' });
    try {
      const wrong = await rejection(createLrmBackend(configFor(sim)).inspect('alice'));
      expect(wrong).toMatchObject({
        code: 'FP_LRM_UNEXPECTED_RESPONSE',
        details: { endpoint: 'login', httpStatus: 404 },
      });

      const p = '/lrm/v4';
      const endpoints = {
        login: { path: `${p}/auth/login` },
        logout: { path: `${p}/auth/logout` },
        listUsers: { path: `${p}/users` },
        getUser: { path: `${p}/users/{username}` },
        securitySettings: { path: `${p}/settings/security` },
        unlockUser: { path: `${p}/users/{username}/unlock` },
        setTemporaryPassword: { path: `${p}/users/{username}/temporary-password` },
      };
      await failLogins(sim, 'alice', 5);
      const result = await createLrmBackend(configFor(sim, { endpoints })).unlock('alice');
      expect(result.after.locked).toBe(false);
    } finally {
      await sim.close();
    }
  });
});

describe('LRM steps that fail half-way', () => {
  let sim: LrmSimulator;
  beforeEach(async () => {
    sim = await startSim();
    await failLogins(sim, 'alice', 5);
  });
  afterEach(() => sim.close());

  it('unlock succeeded but the temporary password failed: reported precisely, state re-read', async () => {
    sim.failNext('setTemporaryPassword', 500);
    const err = await rejection(createLrmBackend(configFor(sim)).resetPassword('alice', 'Temp-Alice-9x'));
    expect(err.code).toBe('FP_LRM_RESET_INCOMPLETE');
    expect(err.message).toContain('was unlocked, but setting the temporary password failed');
    expect(err.message).toContain('keeps the old password');
    expect(err.details).toMatchObject({
      step: 'set-temporary-password',
      unlocked: true,
      causeCode: 'FP_LRM_UNEXPECTED_RESPONSE',
    });
    expect(err.details.before).toMatchObject({ locked: true });
    expect(err.details.after).toMatchObject({ locked: false, mustChangePassword: false });
    expect((await userLogin(sim, 'alice', ALICE_PASSWORD)).status).toBe(200);
  });

  it('the unlock step failing leaves the password alone and names the step', async () => {
    sim.failNext('unlockUser', 500);
    const err = await rejection(createLrmBackend(configFor(sim)).resetPassword('alice', 'Temp-Alice-9x'));
    expect(err.details).toMatchObject({ step: 'unlock', after: { locked: true } });
    expect(sim.requests.filter((r) => r.route === 'setTemporaryPassword')).toEqual([]);
    expect(sim.user('alice')?.password).toBe(ALICE_PASSWORD);
  });

  it('a temporary password LRM refuses on an unlocked account is FP_PASSWORD_POLICY and changes nothing', async () => {
    const backend = createLrmBackend(configFor(sim));
    await backend.unlock('alice');
    const err = await rejection(backend.resetPassword('alice', 'short'));
    expect(err).toMatchObject({ code: 'FP_PASSWORD_POLICY', details: { step: 'set-temporary-password' } });
    expect(err.message).not.toContain('short');
    expect(sim.user('alice')).toMatchObject({ password: ALICE_PASSWORD, mustChangePassword: false });
  });

  it('a write that times out after being sent says LRM may have applied it and shows the state re-read', async () => {
    const backend = createLrmBackend(configFor(sim, { timeoutMs: 400 }));
    sim.hang('unlockUser');
    const err = await rejection(backend.unlock('alice'));
    expect(err).toMatchObject({
      code: 'FP_LRM_UNREACHABLE',
      details: { step: 'unlock', requestSent: true, timedOut: true },
    });
    expect(err.message).toContain('may have been applied');
    expect(err.details.after).toMatchObject({ locked: true });
  });
});

describe('LRM TLS trust', () => {
  let sim: LrmSimulator;
  let other: LrmSimulator;
  beforeAll(async () => {
    [sim, other] = await Promise.all([startSim(), startSim()]);
  });
  afterAll(() => Promise.all([sim.close(), other.close()]));

  it('trusts the CA file it is given', async () => {
    const caFile = tempFile('lrm-ca.pem', sim.caPem, 0o644);
    expect(await createLrmBackend(configFor(sim, { tls: { caFile } })).inspect('alice')).toMatchObject({
      exists: true,
    });
  });

  it('refuses a certificate from another CA, a wrong pin, and an unconfigured self-signed LRM, sending nothing', async () => {
    sim.requests.length = 0;
    const wrongCa = await rejection(
      createLrmBackend(configFor(sim, { tls: { caFile: tempFile('other-ca.pem', other.caPem, 0o644) } })).unlock(
        'alice',
      ),
    );
    expect(wrongCa.code).toBe('FP_LRM_TLS_UNTRUSTED');
    expect(wrongCa.message).toContain('nothing was sent');
    expect(wrongCa.details.presentedFingerprint).toBe(sim.fingerprint);

    const wrongPin = await rejection(
      createLrmBackend(configFor(sim, { tls: { fingerprint: other.fingerprint } })).unlock('alice'),
    );
    expect(wrongPin.code).toBe('FP_LRM_TLS_UNTRUSTED');
    expect(wrongPin.message).toContain('pinned lrm.tls.fingerprint');

    const none = await rejection(createLrmBackend(configFor(sim, { tls: {} })).inspect('alice'));
    expect(none.code).toBe('FP_LRM_TLS_UNTRUSTED');
    expect(none.message).toContain('set lrm.tls.caFile or lrm.tls.fingerprint');

    expect(sim.requests).toEqual([]);
  });

  it('accepts a pin written with colons in uppercase', async () => {
    const hex = sim.fingerprint.slice('sha256:'.length).toUpperCase().match(/../g)!.join(':');
    expect(await createLrmBackend(configFor(sim, { tls: { fingerprint: hex } })).inspect('bob')).toMatchObject({
      exists: true,
    });
  });

  it('insecure mode works but warns', async () => {
    const lines: string[] = [];
    const { createLogger } = await import('../../shared/logger');
    const log = createLogger({ destination: { write: (l: string) => void lines.push(l) } });
    const backend = createLrmBackend(configFor(sim, { tls: { insecure: true } }), { log });
    expect(lines.join('')).toContain('lrm.tls.insecure is true');
    expect(await backend.inspect('bob')).toMatchObject({ exists: true });
  });
});
