/**
 * Test helper acting as a person at the LRM login page: plain HTTPS to the simulator (trusting its test
 * CA), independent of the fleetpass client under test.
 */
import { request } from 'node:https';
import type { LrmSimulator } from './lrm-simulator';

export interface UserResponse {
  status: number;
  body: Record<string, unknown>;
}

function call(sim: LrmSimulator, method: string, path: string, body?: unknown, token?: string): Promise<UserResponse> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port: sim.port,
        method,
        path,
        ca: sim.caPem,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown>;
          try {
            parsed = raw ? JSON.parse(raw) : {};
          } catch {
            parsed = { raw };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** Signs in as a user, as the LRM login form does. */
export function userLogin(sim: LrmSimulator, username: string, password: string): Promise<UserResponse> {
  return call(sim, 'POST', '/api/auth/login', { username, password });
}

/** The forced change after a temporary password or an expired one. */
export function userChangePassword(
  sim: LrmSimulator,
  token: string,
  currentPassword: string,
  newPassword: string,
): Promise<UserResponse> {
  return call(sim, 'POST', '/api/account/change-password', { currentPassword, newPassword }, token);
}

/** Any authenticated GET, e.g. to show a restricted session cannot use LRM yet. */
export function userGet(sim: LrmSimulator, path: string, token: string): Promise<UserResponse> {
  return call(sim, 'GET', path, undefined, token);
}

/** Fails `times` logins with a wrong password, as a person mistyping would. */
export async function failLogins(sim: LrmSimulator, username: string, times: number): Promise<UserResponse[]> {
  const out: UserResponse[] = [];
  for (let i = 0; i < times; i++) out.push(await userLogin(sim, username, `wrong-${i}-password`));
  return out;
}
