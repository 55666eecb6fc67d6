/**
 * Reads the SSR user store (`GET /api/v1/user`) as the configured administrator, signing in with the local
 * key (or a password file) and keeping the token until the SSR refuses it. Lookups never throw: an SSR that
 * cannot be read gives "unknown" with the error code, so inspect still reports the Linux side.
 */
import { readFileSync } from 'node:fs';
import { FleetpassError, isFleetpassError } from '../../../shared/errors';
import { DEFAULT_SSR_LOCAL_KEY_FILE, type SsrBackendConfig } from './config';
import type { SsrCredential, SsrRestClient, SsrUser } from './rest-client';

export type UserLookup =
  | { readonly status: 'present'; readonly user: SsrUser }
  | { readonly status: 'absent' }
  | { readonly status: 'unknown'; readonly error: FleetpassError };

export interface SsrUserStore {
  lookup(name: string): Promise<UserLookup>;
}

function readSecretFile(path: string, key: string): string {
  try {
    const text = readFileSync(path, 'utf8');
    if (text.trim() === '')
      throw new FleetpassError('FP_CONFIG_INVALID', `the file ${path} (${key}) is empty`, { details: { key } });
    return text;
  } catch (e) {
    if (isFleetpassError(e)) throw e;
    throw new FleetpassError(
      'FP_CONFIG_UNREADABLE',
      `cannot read ${path} (${key}): ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      { details: { key } },
    );
  }
}

/** The administrator credential, read at the moment of sign-in so a rotated one needs no restart. */
function readCredential(config: SsrBackendConfig['userList']): SsrCredential {
  if (config.passwordFile)
    return { password: readSecretFile(config.passwordFile, 'ssr.userList.passwordFile').replace(/\r?\n$/, '') };
  return { localKey: readSecretFile(config.keyFile ?? DEFAULT_SSR_LOCAL_KEY_FILE, 'ssr.userList.keyFile') };
}

/** A user store reader over `client`; disabled by config, every lookup is "unknown". */
export function createSsrUserStore(config: SsrBackendConfig['userList'], client: SsrRestClient): SsrUserStore {
  let token: string | undefined;

  async function list(): Promise<SsrUser[]> {
    if (token) {
      try {
        return await client.listUsers(token);
      } catch (e) {
        // An expired or revoked token: sign in again once.
        if (!isFleetpassError(e) || e.code !== 'FP_SSR_AUTH_FAILED') throw e;
        token = undefined;
      }
    }
    token = await client.login(config.username, readCredential(config));
    return client.listUsers(token);
  }

  async function lookup(name: string): Promise<UserLookup> {
    if (!config.enabled) {
      return {
        status: 'unknown',
        error: new FleetpassError(
          'FP_BACKEND_UNAVAILABLE',
          'reading the SSR user store is turned off (ssr.userList.enabled)',
        ),
      };
    }
    try {
      const user = (await list()).find((u) => u.name === name);
      return user ? { status: 'present', user } : { status: 'absent' };
    } catch (e) {
      return {
        status: 'unknown',
        error: isFleetpassError(e) ? e : new FleetpassError('FP_INTERNAL', undefined, { cause: e }),
      };
    }
  }

  return { lookup };
}
