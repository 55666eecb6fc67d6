/**
 * Test-only Local Run Manager simulator: a real HTTPS server on 127.0.0.1 that follows LRM's documented
 * behaviour (KB 000009008, KB 000005751): the version at the bottom of the login page, lockout after the
 * allowed login attempts (default 5), admin-only unlock and temporary password, the forced change at the
 * next login, password expiry (default 90 days). Its HTTP routes are fleetpass's assumed endpoint table,
 * because LRM's own API is not documented. It records every request (method and path, never bodies).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../shared/clock';
import { certificateFingerprint, createCa, issueServerCertificate, type CertAndKey } from '../../shared/pki';

export type SimRoute =
  | 'loginPage'
  | 'login'
  | 'logout'
  | 'listUsers'
  | 'getUser'
  | 'securitySettings'
  | 'unlockUser'
  | 'setTemporaryPassword'
  | 'changePassword';

export interface SimUserInit {
  username: string;
  password: string;
  role?: 'admin' | 'user';
  disabled?: boolean;
  passwordLastChanged?: Date;
}

export interface SimUser {
  username: string;
  password: string;
  role: 'admin' | 'user';
  locked: boolean;
  disabled: boolean;
  failedLoginAttempts: number;
  passwordLastChanged: Date;
  mustChangePassword: boolean;
}

export interface LrmSimulatorOptions {
  /** Shown at the bottom of the login page; "3.x" selects the older page layout. */
  version?: string;
  allowedLoginAttempts?: number;
  passwordExpiryDays?: number;
  clock?: Clock;
  users?: SimUserInit[];
  /** Prefix of the API routes (default "/api"), to test endpoint overrides. */
  apiPrefix?: string;
  /** Serve this certificate instead of a fresh one from a fresh test CA. */
  tls?: { ca: CertAndKey; server: CertAndKey };
}

export interface LrmSimulator {
  readonly url: string;
  readonly port: number;
  /** The test CA (PEM) that signed the server certificate, and the certificate's "sha256:" fingerprint. */
  readonly caPem: string;
  readonly fingerprint: string;
  /** Every request, in order: method and path only. */
  readonly requests: Array<{ method: string; path: string; route?: SimRoute }>;
  /** Every session token issued, so tests can check none leaks. */
  readonly tokens: string[];
  user(name: string): SimUser | undefined;
  /** Next request(s) to `route` answer with `status` (default once). */
  failNext(route: SimRoute, status: number, times?: number): void;
  /** Answers on `route` become HTML ("html") or JSON of another shape ("wrong-shape") until cleared. */
  garble(route: SimRoute, kind: 'html' | 'wrong-shape' | undefined): void;
  /** Requests to `route` are accepted and never answered. */
  hang(route: SimRoute): void;
  close(): Promise<void>;
}

const MIN_PASSWORD_LENGTH = 8;
const DAY_MS = 86_400_000;

function loginPage(version: string): string {
  const footer =
    Number(version.split('.')[0]) >= 4
      ? `<footer class="lrm-footer"><span>Local Run Manager v${version}</span> &copy; Illumina, Inc.</footer>`
      : `<div id="footer">LRM Version ${version} &nbsp;|&nbsp; For Research Use Only</div>`;
  return `<!doctype html><html><head><title>Local Run Manager</title><script>window.build="9.9.9"</script></head><body><div id="app"><h1>Sign in</h1><form><input name="username"><input type="password" name="password"><a href="#/forgotpassword">Forgot your password?</a></form></div>${footer}</body></html>`;
}

/** Starts the simulator on 127.0.0.1 with an ephemeral port. */
export async function startLrmSimulator(options: LrmSimulatorOptions = {}): Promise<LrmSimulator> {
  const version = options.version ?? '4.1.0';
  const allowed = options.allowedLoginAttempts ?? 5;
  const expiryDays = options.passwordExpiryDays ?? 90;
  const clock = options.clock ?? systemClock;
  const api = options.apiPrefix ?? '/api';
  const tls =
    options.tls ??
    (await (async () => {
      const ca = await createCa({ commonName: 'lrm simulator test CA' });
      return { ca, server: await issueServerCertificate(ca, { hosts: ['localhost', '127.0.0.1'] }) };
    })());

  const users = new Map<string, SimUser>();
  for (const u of options.users ?? []) {
    users.set(u.username.toLowerCase(), {
      username: u.username,
      password: u.password,
      role: u.role ?? 'user',
      locked: false,
      disabled: u.disabled ?? false,
      failedLoginAttempts: 0,
      passwordLastChanged: u.passwordLastChanged ?? clock.now(),
      mustChangePassword: false,
    });
  }
  const sessions = new Map<string, { username: string; restricted: boolean }>();
  const requests: LrmSimulator['requests'] = [];
  const tokens: string[] = [];
  const failures = new Map<SimRoute, { status: number; times: number }>();
  const garbled = new Map<SimRoute, 'html' | 'wrong-shape'>();
  const hanging = new Set<SimRoute>();
  const hungResponses: ServerResponse[] = [];

  const expires = (u: SimUser) => new Date(u.passwordLastChanged.getTime() + expiryDays * DAY_MS);
  const record = (u: SimUser) => ({
    username: u.username,
    role: u.role,
    locked: u.locked,
    disabled: u.disabled,
    failedLoginAttempts: u.failedLoginAttempts,
    allowedLoginAttempts: allowed,
    passwordLastChanged: u.passwordLastChanged.toISOString(),
    passwordExpires: expires(u).toISOString(),
    mustChangePassword: u.mustChangePassword,
  });

  /** Which route a method and path are, and the routes a path allows (for OPTIONS). */
  function match(method: string, path: string): { route?: SimRoute; allow: string[]; username?: string } {
    const table: Array<[RegExp, string, SimRoute]> = [
      [/^\/$/, 'GET', 'loginPage'],
      [new RegExp(`^${api}/auth/login$`), 'POST', 'login'],
      [new RegExp(`^${api}/auth/logout$`), 'POST', 'logout'],
      [new RegExp(`^${api}/users$`), 'GET', 'listUsers'],
      [new RegExp(`^${api}/users/([^/]+)$`), 'GET', 'getUser'],
      [new RegExp(`^${api}/settings/security$`), 'GET', 'securitySettings'],
      [new RegExp(`^${api}/users/([^/]+)/unlock$`), 'POST', 'unlockUser'],
      [new RegExp(`^${api}/users/([^/]+)/temporary-password$`), 'POST', 'setTemporaryPassword'],
      [new RegExp(`^${api}/account/change-password$`), 'POST', 'changePassword'],
    ];
    const allow: string[] = [];
    let found: { route?: SimRoute; username?: string } = {};
    for (const [re, m, route] of table) {
      const hit = re.exec(path);
      if (!hit) continue;
      allow.push(m);
      if (m === method) found = { route, username: hit[1] ? decodeURIComponent(hit[1]) : undefined };
    }
    return { ...found, allow };
  }

  function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json',
      ...headers,
    });
    res.end(text);
  }

  function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          const v = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
          resolve(typeof v === 'object' && v !== null ? v : {});
        } catch {
          resolve({});
        }
      });
    });
  }

  function sessionOf(req: IncomingMessage) {
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
    return token ? { token, session: sessions.get(token) } : { token: undefined, session: undefined };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0];
    const m = match(method, path);
    requests.push({ method, path, route: m.route });
    if (method === 'OPTIONS') {
      if (m.allow.length === 0) return send(res, 404, { error: 'not_found' });
      return send(res, 204, undefined, { allow: [...m.allow, 'OPTIONS'].join(', ') });
    }
    if (!m.route) return send(res, m.allow.length ? 405 : 404, { error: 'not_found' });
    const route = m.route;
    if (hanging.has(route)) {
      hungResponses.push(res);
      return;
    }
    const failure = failures.get(route);
    if (failure) {
      if (--failure.times <= 0) failures.delete(route);
      return send(res, failure.status, { error: 'injected_failure' });
    }
    const garble = garbled.get(route);
    if (garble === 'html') return send(res, 200, '<html><body>Service temporarily unavailable</body></html>');
    if (garble === 'wrong-shape') return send(res, 200, { Name: 'x', IsLocked: 'perhaps', Items: 3 });

    if (route === 'loginPage') return send(res, 200, loginPage(version));
    const body = method === 'POST' ? await readJson(req) : {};

    if (route === 'login') {
      const u = users.get(String(body.username ?? '').toLowerCase());
      if (!u) return send(res, 401, { error: 'invalid_credentials' });
      if (u.disabled) return send(res, 403, { error: 'account_disabled' });
      if (u.locked) return send(res, 423, { error: 'account_locked' });
      if (body.password !== u.password) {
        u.failedLoginAttempts += 1;
        if (allowed > 0 && u.failedLoginAttempts >= allowed) u.locked = true;
        return send(res, 401, {
          error: 'invalid_credentials',
          remainingAttempts: Math.max(0, allowed - u.failedLoginAttempts),
        });
      }
      u.failedLoginAttempts = 0;
      const expired = expires(u).getTime() <= clock.now().getTime();
      const must = u.mustChangePassword || expired;
      const token = randomBytes(24).toString('hex');
      sessions.set(token, { username: u.username, restricted: must });
      tokens.push(token);
      return send(res, 200, {
        token,
        mustChangePassword: must,
        reason: must ? (expired ? 'password_expired' : 'temporary_password') : undefined,
      });
    }

    const { token, session } = sessionOf(req);
    if (!session) return send(res, 401, { error: 'not_signed_in' });
    const me = users.get(session.username.toLowerCase());
    if (!me) return send(res, 401, { error: 'not_signed_in' });

    if (route === 'logout') {
      sessions.delete(token as string);
      return send(res, 204);
    }
    if (route === 'changePassword') {
      if (body.currentPassword !== me.password) return send(res, 400, { error: 'wrong_current_password' });
      const next = body.newPassword;
      if (typeof next !== 'string' || next.length < MIN_PASSWORD_LENGTH || next === me.password)
        return send(res, 400, { error: 'password_policy' });
      me.password = next;
      me.mustChangePassword = false;
      me.passwordLastChanged = clock.now();
      session.restricted = false;
      return send(res, 204);
    }
    if (session.restricted) return send(res, 403, { error: 'password_change_required' });
    // Documented: only an Admin can unlock or set a temporary password; Account Management is Admin-only.
    if (me.role !== 'admin') return send(res, 403, { error: 'forbidden' });

    if (route === 'listUsers') return send(res, 200, { users: [...users.values()].map(record) });
    if (route === 'securitySettings')
      return send(res, 200, { allowedLoginAttempts: allowed, passwordExpiryDays: expiryDays });
    const target = users.get(String(m.username ?? '').toLowerCase());
    if (!target) return send(res, 404, { error: 'user_not_found' });
    if (route === 'getUser') return send(res, 200, record(target));
    if (route === 'unlockUser') {
      target.locked = false;
      target.failedLoginAttempts = 0;
      return send(res, 200, record(target));
    }
    if (route === 'setTemporaryPassword') {
      const pw = body.password;
      if (typeof pw !== 'string' || pw.length < MIN_PASSWORD_LENGTH)
        return send(res, 400, { error: 'password_policy' });
      target.password = pw;
      target.mustChangePassword = true;
      target.passwordLastChanged = clock.now();
      return send(res, 200, record(target));
    }
    return send(res, 404, { error: 'not_found' });
  }

  const server: Server = createServer({ cert: tls.server.certPem, key: tls.server.keyPem }, (req, res) => {
    handle(req, res).catch(() => send(res, 500, { error: 'internal' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `https://127.0.0.1:${port}`,
    port,
    caPem: tls.ca.certPem,
    fingerprint: certificateFingerprint(tls.server.certPem),
    requests,
    tokens,
    user: (name) => {
      const u = users.get(name.toLowerCase());
      return u ? { ...u } : undefined;
    },
    failNext: (route, status, times = 1) => void failures.set(route, { status, times }),
    garble: (route, kind) => void (kind ? garbled.set(route, kind) : garbled.delete(route)),
    hang: (route) => void hanging.add(route),
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hungResponses) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
