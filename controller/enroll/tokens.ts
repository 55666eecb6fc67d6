/**
 * One-time enrollment tokens: `fpe_<id>_<secret>` with a 32-byte random secret, shown once and stored only
 * as HMAC-SHA256(salt, secret) with a per-token salt; the id finds the row (one read, one hash, compared in
 * constant time). Created, listed and revoked by admins (the service layer checks the role; these functions
 * audit what they change). Spending a token happens in enroll.ts.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { FleetpassError } from '../../shared/errors';
import { recordAudited } from '../audit';
import type { EnrollmentTokenRecord } from '../store/enrollment-repo';
import type { EnrollDeps } from './deps';
import { textProblem } from '../../shared/validation/text';
import { assertNodeId } from './node-id';

const TOKEN_FORMAT = /^fpe_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const MAX_LABELS = 32;
const MAX_LABEL_TEXT = 100;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;

/** A token as listed: never the secret or its hash. */
export type EnrollmentTokenView = Omit<EnrollmentTokenRecord, 'salt' | 'hash'> & {
  state: 'active' | 'used' | 'expired' | 'revoked';
};

export interface CreateEnrollmentTokenInput {
  labels?: Record<string, string>;
  /** 0 or absent: the default lifetime (settings.defaultTokenTtlSeconds). */
  ttlSeconds?: number;
  /** The node id the certificate will carry; absent lets the controller derive it from the hostname. */
  nodeId?: string;
  createdBy: string;
}

export interface CreatedEnrollmentToken {
  token: EnrollmentTokenView;
  /** The whole token: give it to whoever installs the node, once; never stored or logged. */
  secret: string;
  /** sha256:<hex> of the controller CA, to pin at enrollment. */
  caFingerprint: string;
}

function digest(salt: Buffer, secret: string): Buffer {
  return createHmac('sha256', salt).update(secret, 'utf8').digest();
}

/** The token's id when it is shaped like an enrollment token (safe to log), else undefined. */
export function enrollmentTokenId(token: string): string | undefined {
  return TOKEN_FORMAT.exec(token.trim())?.[1];
}

/** Which state a token is in at `now`. */
export function tokenState(t: EnrollmentTokenRecord, now: Date): EnrollmentTokenView['state'] {
  if (t.used) return 'used';
  if (t.revoked) return 'revoked';
  if (new Date(t.expires).getTime() <= now.getTime()) return 'expired';
  return 'active';
}

function view(t: EnrollmentTokenRecord, now: Date): EnrollmentTokenView {
  const { salt: _salt, hash: _hash, ...rest } = t;
  return { ...rest, state: tokenState(t, now) };
}

function checkLabels(labels: Record<string, string>): Record<string, string> {
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS)
    throw new FleetpassError('FP_INVALID_ARGUMENT', `a token may carry at most ${MAX_LABELS} labels`);
  for (const [k, v] of entries) {
    if (!LABEL_KEY.test(k))
      throw new FleetpassError(
        'FP_INVALID_ARGUMENT',
        `the label key ${JSON.stringify(k.slice(0, 80))} must be 1-63 letters, digits, ".", "_", "/" or "-"`,
      );
    if (typeof v !== 'string' || v.length > MAX_LABEL_TEXT)
      throw new FleetpassError(
        'FP_INVALID_ARGUMENT',
        `the value of label ${k} must be text of at most ${MAX_LABEL_TEXT} characters`,
      );
    const problem = textProblem(`the value of label ${k}`, v, { max: MAX_LABEL_TEXT, singleLine: true });
    if (problem) throw new FleetpassError('FP_INVALID_ARGUMENT', problem);
  }
  return Object.fromEntries(entries);
}

/** Creates a one-time token (audited as enrollment.token_created); the secret is returned once. */
export function createEnrollmentToken(deps: EnrollDeps, input: CreateEnrollmentTokenInput): CreatedEnrollmentToken {
  const { settings } = deps;
  const ttl = input.ttlSeconds || settings.defaultTokenTtlSeconds;
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > settings.maxTokenTtlSeconds) {
    throw new FleetpassError(
      'FP_INVALID_ARGUMENT',
      `a token must live between 60 seconds and ${settings.maxTokenTtlSeconds} seconds (${Math.round(settings.maxTokenTtlSeconds / 86_400)} days)`,
    );
  }
  const nodeId = input.nodeId ? assertNodeId(input.nodeId) : '';
  const labels = checkLabels(input.labels ?? {});
  const now = deps.clock.now();
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16);
  const expires = new Date(now.getTime() + ttl * 1000).toISOString();
  const row = {
    id,
    salt,
    hash: digest(salt, secret),
    labels,
    nodeId,
    created: now.toISOString(),
    createdBy: input.createdBy,
    expires,
  };
  recordAudited(deps.store.db, () => {
    deps.repo.insertToken(row);
    deps.audit.append({
      actor: input.createdBy,
      action: 'enrollment.token_created',
      nodeId,
      outcome: 'ok',
      details: { tokenId: id, labels, expires, nodeId: nodeId || undefined },
    });
  });
  deps.log.info(
    { tokenId: id, nodeId: nodeId || undefined, expires, createdBy: input.createdBy },
    'enrollment token created',
  );
  return {
    token: view({ ...row, used: null, usedByNode: '', revoked: null, revokedBy: '' }, now),
    secret: `fpe_${id}_${secret}`,
    caFingerprint: deps.caFingerprint,
  };
}

/** Every token, newest first, with its state; secrets and hashes are never returned. */
export function listEnrollmentTokens(deps: EnrollDeps): EnrollmentTokenView[] {
  const now = deps.clock.now();
  return deps.repo.listTokens().map((t) => view(t, now));
}

/** Revokes an unused token (audited as enrollment.token_revoked); FP_NOT_FOUND / FP_INVALID_ARGUMENT otherwise. */
export function revokeEnrollmentToken(deps: EnrollDeps, id: string, actor: string): EnrollmentTokenView {
  const tokenId = enrollmentTokenId(id) ?? id;
  const existing = deps.repo.getToken(tokenId);
  if (!existing)
    throw new FleetpassError('FP_NOT_FOUND', `no enrollment token with id ${JSON.stringify(tokenId.slice(0, 40))}`);
  if (existing.used)
    throw new FleetpassError(
      'FP_INVALID_ARGUMENT',
      `the enrollment token ${tokenId} was already used by node ${existing.usedByNode}; revoke the node instead`,
    );
  if (existing.revoked) return view(existing, deps.clock.now());
  const now = deps.clock.now().toISOString();
  recordAudited(deps.store.db, () => {
    if (!deps.repo.revokeToken(tokenId, actor, now))
      throw new FleetpassError('FP_INVALID_ARGUMENT', `the enrollment token ${tokenId} was used meanwhile`);
    deps.audit.append({
      actor,
      action: 'enrollment.token_revoked',
      nodeId: existing.nodeId,
      outcome: 'revoked',
      details: { tokenId },
    });
  });
  deps.log.info({ tokenId, actor }, 'enrollment token revoked');
  return view(deps.repo.getToken(tokenId)!, deps.clock.now());
}

export type TokenCheck =
  | { ok: true; token: EnrollmentTokenRecord }
  | {
      ok: false;
      tokenId?: string;
      why: 'malformed' | 'unknown' | 'mismatch' | 'used' | 'revoked' | 'expired';
      token?: EnrollmentTokenRecord;
    };

/** Checks a presented token without spending it. */
export function checkEnrollmentToken(deps: EnrollDeps, presented: string, now: Date): TokenCheck {
  const m = TOKEN_FORMAT.exec(presented.trim());
  if (!m) return { ok: false, why: 'malformed' };
  const [, id, secret] = m;
  const row = deps.repo.getToken(id);
  if (!row) return { ok: false, tokenId: id, why: 'unknown' };
  const hash = digest(row.salt, secret);
  if (hash.length !== row.hash.length || !timingSafeEqual(hash, row.hash))
    return { ok: false, tokenId: id, why: 'mismatch' };
  const state = tokenState(row, now);
  if (state !== 'active') return { ok: false, tokenId: id, why: state, token: row };
  return { ok: true, token: row };
}

/** The sentence a refused enroller sees: it does not tell an unknown token from a wrong secret. */
export function tokenRefusal(why: Exclude<TokenCheck, { ok: true }>['why']): string {
  switch (why) {
    case 'used':
      return 'the enrollment token was already used; ask an admin for a new one';
    case 'expired':
      return 'the enrollment token has expired; ask an admin for a new one';
    case 'revoked':
      return 'the enrollment token was revoked; ask an admin for a new one';
    default:
      return 'the enrollment token is not known to this controller; check it was copied whole, or ask an admin for a new one';
  }
}
