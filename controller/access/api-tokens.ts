/**
 * Operator API tokens: `fpt_<id>_<secret>` with a 32-byte random secret, shown once and stored only as
 * HMAC-SHA256(salt, secret) with a per-token random salt. The id is the lookup key, so checking a token
 * costs one row read and one hash; comparison is constant-time. A slow hash would add nothing here: the
 * secret is 256 random bits, not a human password.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { OperatorsRepo } from '../store/operators-repo';

const TOKEN_FORMAT = /^fpt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface IssuedToken {
  id: string;
  /** The whole token; give it to the operator once, never store or log it. */
  token: string;
  expires: Date | null;
}

/** The token's id when it is shaped like a fleetpass token (safe to log), else undefined. */
export function tokenId(token: string): string | undefined {
  return TOKEN_FORMAT.exec(token)?.[1];
}

function digest(salt: Buffer, secret: string): Buffer {
  return createHmac('sha256', salt).update(secret, 'utf8').digest();
}

/**
 * Creates and stores a token for `operator`; `ttlSeconds` 0 means it never expires. `knownTo` adds the
 * operators who could hold the credential it was made with (owner and maker are always in it).
 */
export function issueApiToken(
  repo: OperatorsRepo,
  operator: string,
  opts: { createdBy: string; ttlSeconds: number; now: Date; knownTo?: readonly string[]; kind?: 'api' | 'session' },
): IssuedToken {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16);
  const expires = opts.ttlSeconds > 0 ? new Date(opts.now.getTime() + opts.ttlSeconds * 1000) : null;
  repo.insertToken({
    id,
    operator,
    salt,
    hash: digest(salt, secret),
    created: opts.now.toISOString(),
    createdBy: opts.createdBy,
    expires: expires?.toISOString() ?? null,
    knownTo: [operator, opts.createdBy, ...(opts.knownTo ?? [])],
    kind: opts.kind,
  });
  return { id, token: `fpt_${id}_${secret}`, expires };
}

export type TokenCheck =
  | { ok: true; operator: string; id: string }
  | { ok: false; id?: string; why: 'malformed' | 'unknown' | 'mismatch' | 'expired' | 'revoked' };

/** Checks a presented token; records its last use (to the minute) when it is good. */
export function checkApiToken(repo: OperatorsRepo, token: string, now: Date): TokenCheck {
  const m = TOKEN_FORMAT.exec(token);
  if (!m) return { ok: false, why: 'malformed' };
  const [, id, secret] = m;
  const row = repo.getToken(id);
  if (!row) return { ok: false, id, why: 'unknown' };
  const presented = digest(row.salt, secret);
  if (presented.length !== row.hash.length || !timingSafeEqual(presented, row.hash))
    return { ok: false, id, why: 'mismatch' };
  if (row.revoked) return { ok: false, id, why: 'revoked' };
  if (row.expires && new Date(row.expires).getTime() <= now.getTime()) return { ok: false, id, why: 'expired' };
  // Last use to the minute is enough, and spares a write on every call.
  if (!row.lastUsed || now.getTime() - new Date(row.lastUsed).getTime() >= 60_000)
    repo.touchToken(id, now.toISOString());
  return { ok: true, operator: row.operator, id };
}
