/**
 * The few SSR REST calls the backend needs, and what their answers mean:
 * `POST /api/v1/login` (password or local key) → `{token}`, `GET /api/v1/user` → the user list, and
 * `PATCH /api/v1/user/{name}` with `{password, oldPassword}`, which stores the password in the SSR itself.
 * Refusals become registry errors; the SSR's own message is kept (scrubbed of the passwords involved).
 */
import { FleetpassError, type ErrorCode } from '../../../shared/errors';
import type { HttpResponse, HttpsTransport } from './https-transport';

export interface SsrUser {
  readonly name: string;
  readonly fullName?: string;
  readonly roles: readonly string[];
  /** "local" users have a password on the router; "remote" ones authenticate elsewhere (LDAP). */
  readonly authenticationType: string;
  /** Absent in the list means enabled (third-party scripts treat only `false` as disabled). */
  readonly enabled: boolean;
}

export type SsrCredential = { readonly password: string } | { readonly localKey: string };

export interface SsrRestClient {
  /** Signs in; returns the bearer token. */
  login(username: string, credential: SsrCredential): Promise<string>;
  listUsers(token: string): Promise<SsrUser[]>;
  /** Changes `name`'s password through the SSR, which needs the current one. */
  changePassword(token: string, name: string, oldPassword: string, newPassword: string): Promise<void>;
  /** Any HTTP answer at all proves the address and the certificate; nothing is authenticated. */
  probe(): Promise<void>;
  close(): void;
}

const MESSAGE_LIMIT = 200;

/** The SSR's `{message}` as one short line, with every secret of the request cut out. */
function ssrMessage(res: HttpResponse, secrets: readonly string[]): string | undefined {
  const raw = (res.body as { message?: unknown } | undefined)?.message;
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  let text = [...raw]
    .map((c) => (c < ' ' || c === '\x7f' ? ' ' : c))
    .join('')
    .replace(/ +/g, ' ')
    .trim();
  for (const s of secrets) if (s.length > 0) text = text.split(s).join('[redacted]');
  return text.slice(0, MESSAGE_LIMIT);
}

function refusal(
  code: ErrorCode,
  what: string,
  res: HttpResponse,
  secrets: readonly string[],
  step: string,
): FleetpassError {
  const message = ssrMessage(res, secrets);
  return new FleetpassError(code, `${what} (HTTP ${res.status}${message ? `: ${message}` : ''})`, {
    details: { httpStatus: res.status, ssrMessage: message, step },
  });
}

function unexpected(what: string, res: HttpResponse, step: string): FleetpassError {
  return new FleetpassError('FP_SSR_UNEXPECTED_RESPONSE', `${what}: unexpected answer HTTP ${res.status}`, {
    details: { httpStatus: res.status, step },
  });
}

function parseUser(raw: unknown): SsrUser | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const u = raw as Record<string, unknown>;
  if (typeof u.name !== 'string') return undefined;
  return {
    name: u.name,
    fullName: typeof u.fullName === 'string' ? u.fullName : undefined,
    roles: Array.isArray(u.roles) ? u.roles.filter((r): r is string => typeof r === 'string') : [],
    authenticationType: typeof u.authenticationType === 'string' ? u.authenticationType : 'local',
    enabled: u.enabled !== false,
  };
}

/** A client over one transport; `step` names in errors say which call failed. */
export function createSsrRestClient(transport: HttpsTransport): SsrRestClient {
  async function login(username: string, credential: SsrCredential): Promise<string> {
    const secret = 'password' in credential ? credential.password : credential.localKey;
    const json =
      'password' in credential ? { username, password: credential.password } : { username, local: credential.localKey };
    const res = await transport.request('POST', '/api/v1/login', { json });
    const token = (res.body as { token?: unknown } | undefined)?.token;
    if (res.status === 200 && typeof token === 'string' && token.length > 0) return token;
    if (res.status === 200) throw unexpected(`signing in to the SSR as ${username}`, res, 'ssr-login');
    if (res.status === 503 || res.status === 502)
      throw refusal('FP_SSR_UNREACHABLE', 'the SSR REST API is not ready', res, [secret], 'ssr-login');
    if (res.status >= 400 && res.status < 500)
      throw refusal('FP_SSR_AUTH_FAILED', `the SSR refused the sign-in of ${username}`, res, [secret], 'ssr-login');
    throw unexpected(`signing in to the SSR as ${username}`, res, 'ssr-login');
  }

  async function listUsers(token: string): Promise<SsrUser[]> {
    const res = await transport.request('GET', '/api/v1/user', { token });
    if (res.status === 401 || res.status === 403)
      throw refusal('FP_SSR_AUTH_FAILED', 'the SSR refused to list its users to the agent', res, [token], 'ssr-users');
    if (res.status !== 200 || !Array.isArray(res.body)) throw unexpected('listing the SSR users', res, 'ssr-users');
    const users = res.body.map(parseUser);
    if (users.some((u) => u === undefined))
      throw unexpected('listing the SSR users (an entry has no name)', res, 'ssr-users');
    return users as SsrUser[];
  }

  async function changePassword(token: string, name: string, oldPassword: string, newPassword: string): Promise<void> {
    const res = await transport.request('PATCH', `/api/v1/user/${encodeURIComponent(name)}`, {
      token,
      json: { password: newPassword, oldPassword },
    });
    const secrets = [newPassword, oldPassword, token];
    if (res.status === 200 || res.status === 204) return;
    if (res.status === 400 || res.status === 422)
      throw refusal('FP_SSR_POLICY_REFUSED', `the SSR refused the new password of ${name}`, res, secrets, 'ssr-change');
    if (res.status === 401 || res.status === 403)
      throw refusal('FP_SSR_AUTH_FAILED', `the SSR refused the password change of ${name}`, res, secrets, 'ssr-change');
    if (res.status === 404)
      throw refusal('FP_SSR_USER_NOT_LOCAL', `the SSR has no user ${name}`, res, secrets, 'ssr-change');
    if (res.status === 503 || res.status === 502)
      throw refusal('FP_SSR_UNREACHABLE', 'the SSR REST API is not ready', res, secrets, 'ssr-change');
    throw unexpected(`changing the password of ${name} through the SSR`, res, 'ssr-change');
  }

  async function probe(): Promise<void> {
    await transport.request('GET', '/api/v1/user');
  }

  return { login, listUsers, changePassword, probe, close: () => transport.close() };
}
