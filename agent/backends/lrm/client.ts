/**
 * The one HTTP client for Local Run Manager: each call uses an entry of the endpoint table
 * (DEFAULT_LRM_ENDPOINTS, overridable), validates the answer with zod, and turns HTTP outcomes into
 * registry errors. Request bodies and session tokens never reach a log line or an error message.
 */
import { z } from 'zod';
import type { Logger } from '../../../shared/logger';
import { FleetpassError } from '../../../shared/errors';
import { endpointPath, resolveEndpoints, type LrmEndpointName, type LrmEndpoints } from './endpoints';
import type { LrmBackendConfig } from './config';
import { createLrmTransport, type HttpResponse, type LrmTransport } from './transport';
import { parseLrmVersion, type LrmVersion } from './version';

export {
  DEFAULT_LRM_ENDPOINTS,
  LRM_ENDPOINT_NAMES,
  LRM_ENDPOINT_KIND,
  resolveEndpoints,
  type LrmEndpoint,
  type LrmEndpointName,
  type LrmEndpoints,
} from './endpoints';

const isoDate = z.iso.datetime({ offset: true });

/** One LRM user as Account Management shows it; unknown extra fields are allowed. */
const userSchema = z.looseObject({
  username: z.string().min(1),
  role: z.string().optional(),
  locked: z.boolean(),
  disabled: z.boolean().optional(),
  failedLoginAttempts: z.number().int().min(0).optional(),
  allowedLoginAttempts: z.number().int().min(0).optional(),
  passwordLastChanged: isoDate.nullable().optional(),
  passwordExpires: isoDate.nullable().optional(),
  mustChangePassword: z.boolean().optional(),
});
const userListSchema = z.union([z.array(userSchema), z.looseObject({ users: z.array(userSchema) })]);
const loginSchema = z.looseObject({ token: z.string().min(1).optional(), mustChangePassword: z.boolean().optional() });
const securitySchema = z.looseObject({
  allowedLoginAttempts: z.number().int().min(0).optional(),
  passwordExpiryDays: z.number().int().min(0).optional(),
});

export type LrmUser = z.infer<typeof userSchema>;
export type LrmSecuritySettings = z.infer<typeof securitySchema>;

/** An authenticated service-account session; its headers carry the token (a secret). */
export interface LrmSession {
  readonly headers: Readonly<Record<string, string>>;
}

export interface LoginPage {
  readonly status: number;
  readonly version?: LrmVersion;
}

export interface LrmClient {
  readonly origin: string;
  readonly endpoints: LrmEndpoints;
  /** GET the login page and read the version at its bottom; nothing else is sent. */
  readLoginPage(): Promise<LoginPage>;
  /** Signs in; `password` is used for this request only. */
  login(username: string, password: string): Promise<LrmSession>;
  logout(session: LrmSession): Promise<void>;
  listUsers(session: LrmSession): Promise<LrmUser[]>;
  /** The user, or undefined when LRM does not know it (confirmed against the user list). */
  getUser(session: LrmSession, username: string): Promise<LrmUser | undefined>;
  /** Lockout and expiry settings, or undefined when this LRM does not serve them. */
  securitySettings(session: LrmSession): Promise<LrmSecuritySettings | undefined>;
  unlockUser(session: LrmSession, username: string): Promise<void>;
  setTemporaryPassword(session: LrmSession, username: string, password: string): Promise<void>;
  /** OPTIONS on an endpoint's path: used by the probe to see whether a write endpoint exists without calling it. */
  options(name: LrmEndpointName, username?: string): Promise<HttpResponse>;
}

/** Creates the client for one LRM; `log` gets endpoint, status and timing only. */
export function createLrmClient(config: LrmBackendConfig, log: Logger): LrmClient {
  const transport: LrmTransport = createLrmTransport({
    baseUrl: config.baseUrl,
    tls: config.tls,
    timeoutMs: config.timeoutMs,
  });
  const endpoints = resolveEndpoints(config.endpoints);

  async function call(
    name: LrmEndpointName,
    opts: { session?: LrmSession; username?: string; body?: unknown; method?: string } = {},
  ): Promise<HttpResponse> {
    const ep = endpoints[name];
    const path = endpointPath(ep, opts.username);
    const started = Date.now();
    const res = await transport.send({
      method: opts.method ?? ep.method,
      path,
      headers: { ...(opts.session?.headers ?? {}) },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    log.debug(
      { endpoint: name, method: opts.method ?? ep.method, path, status: res.status, ms: Date.now() - started },
      'lrm request',
    );
    return res;
  }

  function unexpected(name: LrmEndpointName, res: HttpResponse, why: string): FleetpassError {
    const ep = endpoints[name];
    return new FleetpassError(
      'FP_LRM_UNEXPECTED_RESPONSE',
      `Local Run Manager answered ${ep.method} ${ep.path} (${name}) with HTTP ${res.status}: ${why}; run \`fleetpass-agent lrm probe\` and check lrm.endpoints.${name}`,
      {
        details: { endpoint: name, httpStatus: res.status },
      },
    );
  }

  function parse<T>(name: LrmEndpointName, res: HttpResponse, schema: z.ZodType<T>): T {
    const type = String(res.headers['content-type'] ?? '');
    let json: unknown;
    try {
      json = JSON.parse(res.text);
    } catch {
      throw unexpected(name, res, `the body is not JSON (content-type ${type || 'none'})`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      // Issue paths and messages only: values from LRM are not echoed.
      const issues = parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`);
      throw unexpected(name, res, `the body does not have the expected shape (${issues.join('; ')})`);
    }
    return parsed.data;
  }

  /** Status handling common to calls made with a service session. */
  function checkAdminStatus(name: LrmEndpointName, res: HttpResponse): void {
    if (res.status === 401) {
      throw new FleetpassError(
        'FP_LRM_AUTH_FAILED',
        `Local Run Manager ended or refused the service account session (HTTP 401 on ${name})`,
        { details: { endpoint: name } },
      );
    }
    if (res.status === 403) {
      throw new FleetpassError(
        'FP_LRM_NOT_ADMIN',
        `Local Run Manager refused ${name} for the service account ${config.serviceAccount.username} (HTTP 403); it must be an LRM administrator`,
        {
          details: { endpoint: name },
        },
      );
    }
    if (res.status === 502 || res.status === 503 || res.status === 504) {
      throw new FleetpassError(
        'FP_LRM_UNREACHABLE',
        `Local Run Manager is not ready (HTTP ${res.status} on ${name}); try again when it is running`,
        { details: { endpoint: name } },
      );
    }
  }

  function ok(res: HttpResponse): boolean {
    return res.status >= 200 && res.status < 300;
  }

  const client: LrmClient = {
    origin: transport.origin,
    endpoints,

    async readLoginPage() {
      const res = await call('loginPage');
      if (!ok(res)) return { status: res.status };
      return { status: res.status, version: parseLrmVersion(res.text, config.versionPattern) };
    },

    async login(username, password) {
      const res = await call('login', { body: { username, password } });
      if (res.status === 401) {
        throw new FleetpassError(
          'FP_LRM_AUTH_FAILED',
          `Local Run Manager refused the service account ${username}: wrong username or password (HTTP ${res.status}); fix lrm.serviceAccount in the agent configuration`,
          {
            details: { httpStatus: res.status, reason: 'credentials' },
          },
        );
      }
      if (res.status === 423 || res.status === 403) {
        throw new FleetpassError(
          'FP_LRM_AUTH_FAILED',
          `Local Run Manager refused the service account ${username}: it is locked or disabled in LRM (HTTP ${res.status}); an LRM administrator must unlock it`,
          {
            details: { httpStatus: res.status, reason: 'locked' },
          },
        );
      }
      checkAdminStatus('login', res);
      if (!ok(res)) throw unexpected('login', res, 'not a success status');
      const body = parse('login', res, loginSchema);
      const headers: Record<string, string> = {};
      if (body.token) headers.authorization = `Bearer ${body.token}`;
      const setCookie = res.headers['set-cookie'];
      const cookies = (Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [])
        .map((c) => c.split(';')[0])
        .filter(Boolean);
      if (cookies.length) headers.cookie = cookies.join('; ');
      if (!headers.authorization && !headers.cookie)
        throw unexpected('login', res, 'neither a token nor a session cookie came back');
      const session: LrmSession = { headers };
      if (body.mustChangePassword) {
        await client.logout(session).catch(() => undefined);
        throw new FleetpassError(
          'FP_LRM_AUTH_FAILED',
          `the LRM service account ${username} must choose a new password first: sign in to LRM as ${username}, change it, then update the agent's LRM credential`,
          {
            details: { reason: 'must-change-password' },
          },
        );
      }
      return session;
    },

    async logout(session) {
      const res = await call('logout', { session });
      if (!ok(res) && res.status !== 401)
        log.warn({ endpoint: 'logout', status: res.status }, 'lrm logout not accepted');
    },

    async listUsers(session) {
      const res = await call('listUsers', { session });
      checkAdminStatus('listUsers', res);
      if (!ok(res)) throw unexpected('listUsers', res, 'not a success status');
      const body = parse('listUsers', res, userListSchema);
      return Array.isArray(body) ? body : body.users;
    },

    async getUser(session, username) {
      const res = await call('getUser', { session, username });
      checkAdminStatus('getUser', res);
      if (res.status === 404) {
        // A 404 can mean "no such user" or "no such endpoint": the user list tells which.
        const listed = (await client.listUsers(session)).some(
          (u) => u.username.toLowerCase() === username.toLowerCase(),
        );
        if (listed) throw unexpected('getUser', res, `the user is listed by listUsers but getUser does not find it`);
        return undefined;
      }
      if (!ok(res)) throw unexpected('getUser', res, 'not a success status');
      const user = parse('getUser', res, userSchema);
      if (user.username.toLowerCase() !== username.toLowerCase())
        throw unexpected('getUser', res, 'the answer is about another user');
      return user;
    },

    async securitySettings(session) {
      const res = await call('securitySettings', { session });
      checkAdminStatus('securitySettings', res);
      if (res.status === 404) return undefined;
      if (!ok(res)) throw unexpected('securitySettings', res, 'not a success status');
      return parse('securitySettings', res, securitySchema);
    },

    async unlockUser(session, username) {
      const res = await call('unlockUser', { session, username });
      checkAdminStatus('unlockUser', res);
      if (res.status === 404)
        throw new FleetpassError('FP_ACCOUNT_NOT_FOUND', `Local Run Manager does not know the user ${username}`);
      if (!ok(res)) throw unexpected('unlockUser', res, 'not a success status');
    },

    async setTemporaryPassword(session, username, password) {
      const res = await call('setTemporaryPassword', { session, username, body: { password, temporary: true } });
      checkAdminStatus('setTemporaryPassword', res);
      if (res.status === 400 || res.status === 422) {
        // LRM's explanation is not shown: it might quote the password.
        throw new FleetpassError(
          'FP_PASSWORD_POLICY',
          `Local Run Manager refused the temporary password for ${username} (HTTP ${res.status}); choose one that meets the LRM password policy`,
          {
            details: { endpoint: 'setTemporaryPassword', httpStatus: res.status },
          },
        );
      }
      if (res.status === 404)
        throw new FleetpassError('FP_ACCOUNT_NOT_FOUND', `Local Run Manager does not know the user ${username}`);
      if (!ok(res)) throw unexpected('setTemporaryPassword', res, 'not a success status');
    },

    options(name, username) {
      return call(name, { username, method: 'OPTIONS' });
    },
  };
  return client;
}
