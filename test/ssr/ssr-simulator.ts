/**
 * Test-only Juniper SSR (128T) simulator, following the documented behaviour (docs howto_reset_user_password,
 * config_password_policies, config_access_mgmt, cc_fips REST API; third-party scripts for the user endpoints):
 * - local users are Linux accounts; sign-in goes through PAM (so failed web logins count with SSH in faillock),
 *   and the SSR's own store keeps each user's crypt hash, as /var/lib/128technology/user-running.json does;
 * - `POST /api/v1/login` → `{token}`; `GET /api/v1/user` (admins); `PATCH /api/v1/user/{name}` with
 *   `{password, oldPassword}` stores the password in the SSR and in Linux; without `oldPassword` it is refused;
 * - the password policy (8-15 chars, 4 classes, 8 positions changed, 5 generations, 24 h minimum lifetime);
 * - `restart()` rewrites the Linux passwords from the store (`chpasswd -e`), which is why a plain `passwd` is lost;
 * - a "128T running" flag that a stand-in for `systemctl is-active 128T` reads.
 * The policy is written here independently of the agent's, so the tests compare two readings of the docs.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../shared/clock';
import { certificateFingerprint, createCa, issueServerCertificate, type CertAndKey } from '../../shared/pki';

/** How the simulator reaches the node's Linux accounts (the real-PAM sandbox in tests). */
export interface SimLinuxPort {
  /** PAM authentication as the SSR web server does it; failures count in faillock. */
  authenticate(user: string, password: string): Promise<boolean>;
  /** Sets the Linux password from plaintext (as the SSR does after a change), via stdin. */
  setPassword(user: string, password: string): Promise<void>;
  /** The crypt hash in /etc/shadow. */
  readHash(user: string): Promise<string>;
  /** Writes crypt hashes (`chpasswd -e`). */
  writeHashes(entries: ReadonlyArray<{ user: string; hash: string }>): Promise<void>;
}

export interface SimUserInit {
  name: string;
  role?: 'admin' | 'user';
  fullName?: string;
  enabled?: boolean;
  authenticationType?: 'local' | 'remote';
  /** Default: 30 days before the simulator starts, so the minimum lifetime does not get in the way. */
  passwordChangedAt?: Date;
}

export interface SimUser {
  name: string;
  role: 'admin' | 'user';
  fullName: string;
  enabled: boolean;
  authenticationType: 'local' | 'remote';
  /** The SSR datastore's crypt hash; what a restart writes back to Linux. */
  hash?: string;
  passwordChangedAt: Date;
  /** HMACs of the current and previous passwords (simulator-internal), newest first. */
  history: string[];
}

export type SimFault = 'down-after-login' | 'error-on-change';

export interface SsrSimulatorOptions {
  linux: SimLinuxPort;
  users: SimUserInit[];
  clock?: Clock;
  /** Serve this certificate instead of one from a fresh test CA (e.g. to test a wrong certificate). */
  tls?: { ca: CertAndKey; server: CertAndKey };
}

export interface SsrSimulator {
  readonly baseUrl: string;
  readonly caPem: string;
  readonly fingerprint: string;
  /** The contents of the local key that key-based admin login accepts (pdc_ssh_key on a router). */
  readonly localKey: string;
  /** A stand-in for `systemctl is-active 128T` (argv). */
  readonly serviceCheckCommand: string[];
  readonly running: boolean;
  /** Every request, in order: method, path and answer status (never bodies). */
  readonly requests: Array<{ method: string; path: string; status: number }>;
  user(name: string): SimUser | undefined;
  /** The next matching request (by `user`, when given) misbehaves once. */
  injectFault(fault: SimFault, user?: string): void;
  /** Stops 128T (the REST API goes away). */
  stop(): Promise<void>;
  /** Starts 128T: writes the store's hashes to Linux, then serves again on the same port. */
  start(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

const DAY_MS = 86_400_000;
const POLICY = { min: 8, max: 15, difok: 8, generations: 5, minLifetimeMs: DAY_MS };

function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

/** The SSR's policy message for `next`, or undefined when it is accepted. */
function policyRefusal(
  user: SimUser,
  old: string,
  next: string,
  digest: (pw: string) => string,
  now: Date,
): string | undefined {
  if (next.length < POLICY.min || next.length > POLICY.max)
    return `Password must be between ${POLICY.min} and ${POLICY.max} characters`;
  if (!/[A-Z]/.test(next) || !/[a-z]/.test(next) || !/[0-9]/.test(next) || !/[^A-Za-z0-9]/.test(next)) {
    return 'Password must contain at least one uppercase letter, one lowercase letter, one digit and one special character';
  }
  if (distance(old, next) < POLICY.difok)
    return `At least ${POLICY.difok} characters must be changed from the current password`;
  if (user.history.slice(0, POLICY.generations).includes(digest(next)))
    return `Password cannot be one of the last ${POLICY.generations} passwords`;
  if (now.getTime() - user.passwordChangedAt.getTime() < POLICY.minLifetimeMs)
    return 'Password cannot be changed more than once in 24 hours';
  return undefined;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Starts 128T with the given users; their store hashes are read from Linux, so both start in sync. */
export async function createSsrSimulator(options: SsrSimulatorOptions): Promise<SsrSimulator> {
  const clock = options.clock ?? systemClock;
  const linux = options.linux;
  const dir = mkdtempSync(join(tmpdir(), 'fp-ssr-sim-'));
  const stateFile = join(dir, '128T.state');
  const serviceCheck = join(dir, 'systemctl-is-active-128T');
  writeFileSync(
    serviceCheck,
    `#!/bin/sh\nstate=$(cat '${stateFile}')\necho "$state"\n[ "$state" = active ] || exit 3\n`,
  );
  chmodSync(serviceCheck, 0o755);

  const ca = options.tls?.ca ?? (await createCa({ commonName: 'ssr simulator CA' }));
  const server = options.tls?.server ?? (await issueServerCertificate(ca, { hosts: ['127.0.0.1'] }));
  const localKey = `-----BEGIN OPENSSH PRIVATE KEY-----\n${randomBytes(48).toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`;
  const hmacKey = randomBytes(32);
  const digest = (pw: string) => createHmac('sha256', hmacKey).update(pw).digest('hex');

  const users = new Map<string, SimUser>();
  for (const u of options.users) {
    const authenticationType = u.authenticationType ?? 'local';
    users.set(u.name, {
      name: u.name,
      role: u.role ?? 'user',
      fullName: u.fullName ?? u.name,
      enabled: u.enabled ?? true,
      authenticationType,
      hash: authenticationType === 'local' ? await linux.readHash(u.name) : undefined,
      passwordChangedAt: u.passwordChangedAt ?? new Date(clock.now().getTime() - 30 * DAY_MS),
      history: [],
    });
  }
  const tokens = new Map<string, string>();
  const requests: Array<{ method: string; path: string; status: number }> = [];
  const faults: Array<{ fault: SimFault; user?: string }> = [];
  /** Consumes the first pending `fault` that applies to `user`. */
  const takeFault = (fault: SimFault, user: string): boolean => {
    const i = faults.findIndex((f) => f.fault === fault && (f.user === undefined || f.user === user));
    if (i >= 0) faults.splice(i, 1);
    return i >= 0;
  };
  const sockets = new Set<Socket>();
  let running = false;
  let port = 0;

  function caller(req: IncomingMessage): SimUser | undefined {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const name = m ? tokens.get(m[1]) : undefined;
    return name ? users.get(name) : undefined;
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    const username = typeof body?.username === 'string' ? body.username : '';
    const user = users.get(username);
    let ok = false;
    if (user && typeof body?.local === 'string') {
      ok = body.local === localKey && user.role === 'admin';
    } else if (typeof body?.password === 'string') {
      // Always ask PAM, as the SSR does, so a failure counts in faillock whatever the store says.
      ok = (await linux.authenticate(username, body.password)) && user?.authenticationType === 'local';
    }
    if (!ok || !user) return send(res, 401, { message: 'Invalid username or password' });
    if (!user.enabled) return send(res, 401, { message: 'User account is disabled' });
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, user.name);
    send(res, 200, { token });
    if (takeFault('down-after-login', user.name)) setImmediate(() => void stopServer());
  }

  async function patchUser(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const who = caller(req);
    if (!who) return send(res, 401, { message: 'Unauthorized' });
    const target = users.get(name);
    if (!target) return send(res, 404, { message: `User ${name} does not exist` });
    if (who.name !== name && who.role !== 'admin') return send(res, 403, { message: 'Forbidden' });
    const body = await readJson(req);
    if (!body) return send(res, 400, { message: 'Invalid request body' });
    if (body.password === undefined) {
      if (who.role !== 'admin') return send(res, 403, { message: 'Forbidden' });
      if (typeof body.enabled === 'boolean') target.enabled = body.enabled;
      if (typeof body.fullName === 'string') target.fullName = body.fullName;
      return send(res, 200, {});
    }
    if (typeof body.password !== 'string') return send(res, 400, { message: 'password must be a string' });
    if (typeof body.oldPassword !== 'string')
      return send(res, 400, { message: 'oldPassword is required to change a password' });
    if (takeFault('error-on-change', name)) return send(res, 500, { message: 'Internal Server Error' });
    if (!(await linux.authenticate(name, body.oldPassword)))
      return send(res, 403, { message: 'Current password is incorrect' });
    const refusal = policyRefusal(target, body.oldPassword, body.password, digest, clock.now());
    if (refusal) return send(res, 400, { message: refusal });
    await linux.setPassword(name, body.password);
    target.hash = await linux.readHash(name);
    target.history = [digest(body.password), ...target.history].slice(0, POLICY.generations);
    target.passwordChangedAt = clock.now();
    // "Changing the current password will log this user out of all active sessions."
    for (const [t, n] of tokens) if (n === name) tokens.delete(t);
    send(res, 200, {});
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    if (req.method === 'POST' && path === '/api/v1/login') return login(req, res);
    if (req.method === 'GET' && path === '/api/v1/user') {
      const who = caller(req);
      if (!who) return send(res, 401, { message: 'Unauthorized' });
      if (who.role !== 'admin') return send(res, 403, { message: 'Forbidden' });
      return send(
        res,
        200,
        [...users.values()].map((u) => ({
          name: u.name,
          fullName: u.fullName,
          roles: [u.role],
          authenticationType: u.authenticationType,
          enabled: u.enabled,
        })),
      );
    }
    const m = /^\/api\/v1\/user\/([^/]+)$/.exec(path);
    if (req.method === 'PATCH' && m) return patchUser(req, res, decodeURIComponent(m[1]));
    send(res, 404, { message: 'Not found' });
  }

  const https = createServer({ key: server.keyPem, cert: server.certPem }, (req, res) => {
    res.on('finish', () => requests.push({ method: req.method ?? '', path: req.url ?? '', status: res.statusCode }));
    route(req, res).catch(() => send(res, 500, { message: 'Internal Server Error' }));
  });
  https.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  function listen(server: Server): Promise<void> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  function stopServer(): Promise<void> {
    return new Promise((resolve) => {
      if (!https.listening) return resolve();
      https.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  }

  async function start(): Promise<void> {
    // What makes a Linux-only `passwd` temporary: 128T writes its own store back over /etc/shadow.
    const entries = [...users.values()]
      .filter((u) => u.hash !== undefined)
      .map((u) => ({ user: u.name, hash: u.hash as string }));
    await linux.writeHashes(entries);
    await listen(https);
    running = true;
    writeFileSync(stateFile, 'active\n');
  }

  async function stop(): Promise<void> {
    running = false;
    writeFileSync(stateFile, 'inactive\n');
    tokens.clear();
    await stopServer();
  }

  writeFileSync(stateFile, 'inactive\n');
  await listen(https);
  running = true;
  writeFileSync(stateFile, 'active\n');

  return {
    get baseUrl() {
      return `https://127.0.0.1:${port}`;
    },
    caPem: ca.certPem,
    fingerprint: certificateFingerprint(server.certPem),
    localKey,
    serviceCheckCommand: [serviceCheck],
    get running() {
      return running;
    },
    requests,
    user: (name) => users.get(name),
    injectFault: (fault, user) => void faults.push({ fault, user }),
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
