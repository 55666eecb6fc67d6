/** Prepared statements over the escrow tables (schema v5): key meta, sealed secrets, account bookkeeping, reveals. */
import type { Db } from '../store';
import type { KeyMeta } from './master-key';
import type { SealedSecret, SecretBinding, WrappedKey } from './envelope';

export type SecretState = 'staged' | 'current' | 'previous';
export type RevealRecordState = 'pending' | 'approved' | 'rejected' | 'collected' | 'expired';

export interface AccountKey {
  nodeId: string;
  backend: number;
  account: string;
}

export interface SecretRecord extends SecretBinding {
  id: string;
  state: SecretState;
  operationId: string;
  requestId: string;
  setBy: string;
  staged: string;
  setAt: string | null;
  sealed: SealedSecret;
}

export interface EscrowAccountRecord extends AccountKey {
  trackedSince: string;
  lastRevealed: string | null;
  rotateAfter: string | null;
  rotateReason: string;
  nextAttempt: string | null;
  failures: number;
  lastRotationAt: string | null;
  lastRotationOutcome: string;
}

export interface RevealRecord extends AccountKey {
  id: string;
  requestedBy: string;
  reason: string;
  state: RevealRecordState;
  needsApproval: boolean;
  decidedBy: string;
  decisionNote: string;
  created: string;
  decided: string | null;
  collected: string | null;
  expires: string;
  version: number | null;
}

interface SecretRow {
  id: string;
  node_id: string;
  backend: number;
  account: string;
  version: number;
  state: SecretState;
  operation_id: string;
  request_id: string;
  set_by: string;
  staged: string;
  set_at: string | null;
  key_iv: Buffer;
  wrapped_key: Buffer;
  key_tag: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

interface AccountRow {
  node_id: string;
  backend: number;
  account: string;
  tracked_since: string;
  last_revealed: string | null;
  rotate_after: string | null;
  rotate_reason: string;
  next_attempt: string | null;
  failures: number;
  last_rotation_at: string | null;
  last_rotation_outcome: string;
}

interface RevealRow {
  id: string;
  node_id: string;
  backend: number;
  account: string;
  requested_by: string;
  reason: string;
  state: RevealRecordState;
  needs_approval: number;
  decided_by: string;
  decision_note: string;
  created: string;
  decided: string | null;
  collected: string | null;
  expires: string;
  version: number | null;
}

function secretOf(r: SecretRow): SecretRecord {
  return {
    id: r.id,
    nodeId: r.node_id,
    backend: r.backend,
    account: r.account,
    version: r.version,
    state: r.state,
    operationId: r.operation_id,
    requestId: r.request_id,
    setBy: r.set_by,
    staged: r.staged,
    setAt: r.set_at,
    sealed: {
      keyIv: r.key_iv,
      wrappedKey: r.wrapped_key,
      keyTag: r.key_tag,
      iv: r.iv,
      ciphertext: r.ciphertext,
      tag: r.tag,
    },
  };
}

function accountOf(r: AccountRow): EscrowAccountRecord {
  return {
    nodeId: r.node_id,
    backend: r.backend,
    account: r.account,
    trackedSince: r.tracked_since,
    lastRevealed: r.last_revealed,
    rotateAfter: r.rotate_after,
    rotateReason: r.rotate_reason,
    nextAttempt: r.next_attempt,
    failures: r.failures,
    lastRotationAt: r.last_rotation_at,
    lastRotationOutcome: r.last_rotation_outcome,
  };
}

function revealOf(r: RevealRow): RevealRecord {
  return {
    id: r.id,
    nodeId: r.node_id,
    backend: r.backend,
    account: r.account,
    requestedBy: r.requested_by,
    reason: r.reason,
    state: r.state,
    needsApproval: r.needs_approval === 1,
    decidedBy: r.decided_by,
    decisionNote: r.decision_note,
    created: r.created,
    decided: r.decided,
    collected: r.collected,
    expires: r.expires,
    version: r.version,
  };
}

const ACCOUNT_WHERE = 'node_id = ? AND backend = ? AND account = ?';

export type EscrowRepo = ReturnType<typeof createEscrowRepo>;

/** The repository; every method runs in the caller's transaction, if any. */
export function createEscrowRepo(db: Db) {
  const q = {
    meta: db.prepare<[], { key_id: string; key_check: Buffer }>(
      'SELECT key_id, key_check FROM escrow_meta WHERE id = 1',
    ),
    insertMeta: db.prepare('INSERT INTO escrow_meta (id, key_id, key_check, created) VALUES (1, ?, ?, ?)'),
    updateMeta: db.prepare('UPDATE escrow_meta SET key_id = ?, key_check = ?, rotated = ? WHERE id = 1'),

    insertSecret:
      db.prepare(`INSERT INTO escrow_secrets (id, node_id, backend, account, version, state, operation_id, request_id, set_by, staged, key_iv, wrapped_key, key_tag, iv, ciphertext, tag)
      VALUES (@id, @nodeId, @backend, @account, @version, 'staged', @operationId, @requestId, @setBy, @staged, @keyIv, @wrappedKey, @keyTag, @iv, @ciphertext, @tag)`),
    byOperation: db.prepare<[string], SecretRow>('SELECT * FROM escrow_secrets WHERE operation_id = ?'),
    current: db.prepare<[string, number, string], SecretRow>(
      `SELECT * FROM escrow_secrets WHERE ${ACCOUNT_WHERE} AND state = 'current'`,
    ),
    maxVersion: db.prepare<[string, number, string], number | null>(
      `SELECT max(version) FROM escrow_secrets WHERE ${ACCOUNT_WHERE}`,
    ),
    demote: db.prepare(`UPDATE escrow_secrets SET state = 'previous' WHERE ${ACCOUNT_WHERE} AND state = 'current'`),
    promote: db.prepare("UPDATE escrow_secrets SET state = 'current', set_at = ? WHERE id = ? AND state = 'staged'"),
    prune: db.prepare(`DELETE FROM escrow_secrets WHERE ${ACCOUNT_WHERE} AND state = 'previous' AND id NOT IN (
      SELECT id FROM escrow_secrets WHERE ${ACCOUNT_WHERE} AND state = 'previous' ORDER BY set_at DESC, version DESC LIMIT ?)`),
    deleteSecret: db.prepare("DELETE FROM escrow_secrets WHERE id = ? AND state = 'staged'"),
    stagedCount: db.prepare<[string, number, string], number>(
      `SELECT count(*) FROM escrow_secrets WHERE ${ACCOUNT_WHERE} AND state = 'staged'`,
    ),
    kept: db.prepare<[string, number, string], number>(
      `SELECT count(*) FROM escrow_secrets WHERE ${ACCOUNT_WHERE} AND state IN ('current', 'previous')`,
    ),
    staged: db.prepare<[], SecretRow>("SELECT * FROM escrow_secrets WHERE state = 'staged' ORDER BY staged"),
    all: db.prepare<[], SecretRow>('SELECT * FROM escrow_secrets ORDER BY id'),
    history: db.prepare<[string, number, string], SecretRow>(
      `SELECT * FROM escrow_secrets WHERE ${ACCOUNT_WHERE} AND state IN ('current', 'previous') ORDER BY version DESC`,
    ),
    rewrap: db.prepare('UPDATE escrow_secrets SET key_iv = ?, wrapped_key = ?, key_tag = ? WHERE id = ?'),
    count: db.prepare<[], number>('SELECT count(*) FROM escrow_secrets'),

    ensureAccount: db.prepare(
      'INSERT INTO escrow_accounts (node_id, backend, account, tracked_since) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    account: db.prepare<[string, number, string], AccountRow>(`SELECT * FROM escrow_accounts WHERE ${ACCOUNT_WHERE}`),
    accounts: db.prepare<[], AccountRow>('SELECT * FROM escrow_accounts ORDER BY node_id, backend, account'),
    revealed: db.prepare(`UPDATE escrow_accounts SET last_revealed = ? WHERE ${ACCOUNT_WHERE}`),
    demand: db.prepare(
      `UPDATE escrow_accounts SET rotate_after = ?, rotate_reason = ? WHERE ${ACCOUNT_WHERE} AND (rotate_after IS NULL OR rotate_after > ?)`,
    ),
    passwordSet: db.prepare(
      `UPDATE escrow_accounts SET rotate_after = NULL, rotate_reason = '', next_attempt = NULL, failures = 0 WHERE ${ACCOUNT_WHERE}`,
    ),
    rotationDone: db.prepare(
      `UPDATE escrow_accounts SET last_rotation_at = ?, last_rotation_outcome = ? WHERE ${ACCOUNT_WHERE}`,
    ),
    rotationFailed: db.prepare(
      `UPDATE escrow_accounts SET last_rotation_at = ?, last_rotation_outcome = ?, failures = failures + ?, next_attempt = ? WHERE ${ACCOUNT_WHERE}`,
    ),
    outcome: db.prepare(`UPDATE escrow_accounts SET last_rotation_outcome = ? WHERE ${ACCOUNT_WHERE}`),
    clearBackoff: db.prepare(`UPDATE escrow_accounts SET next_attempt = NULL WHERE ${ACCOUNT_WHERE}`),

    insertReveal:
      db.prepare(`INSERT INTO escrow_reveals (id, node_id, backend, account, requested_by, reason, state, needs_approval, created, expires)
      VALUES (@id, @nodeId, @backend, @account, @requestedBy, @reason, @state, @needsApproval, @created, @expires)`),
    reveal: db.prepare<[string], RevealRow>('SELECT * FROM escrow_reveals WHERE id = ?'),
    reveals: db.prepare<[number], RevealRow>('SELECT * FROM escrow_reveals ORDER BY created DESC LIMIT ?'),
    openReveals: db.prepare<[number], RevealRow>(
      "SELECT * FROM escrow_reveals WHERE state IN ('pending', 'approved') ORDER BY created DESC LIMIT ?",
    ),
    decide: db.prepare(
      'UPDATE escrow_reveals SET state = ?, decided_by = ?, decision_note = ?, decided = ?, expires = ? WHERE id = ? AND state = ?',
    ),
    collect: db.prepare(
      "UPDATE escrow_reveals SET state = 'collected', collected = ?, version = ? WHERE id = ? AND state = ?",
    ),
    expire: db.prepare(
      "UPDATE escrow_reveals SET state = 'expired' WHERE state IN ('pending', 'approved') AND expires <= ?",
    ),
  };
  const k = (a: AccountKey): [string, number, string] => [a.nodeId, a.backend, a.account];

  return {
    meta(): KeyMeta | undefined {
      const r = q.meta.get();
      return r ? { keyId: r.key_id, keyCheck: r.key_check } : undefined;
    },
    insertMeta: (m: KeyMeta, now: Date) => void q.insertMeta.run(m.keyId, m.keyCheck, now.toISOString()),
    updateMeta: (m: KeyMeta, now: Date) => void q.updateMeta.run(m.keyId, m.keyCheck, now.toISOString()),

    /** Stages a sealed password for an open operation. */
    insertStaged(s: Omit<SecretRecord, 'state' | 'setAt'>): void {
      const { sealed, ...fields } = s;
      q.insertSecret.run({ ...fields, ...sealed });
    },
    byOperation: (operationId: string): SecretRecord | undefined => {
      const r = q.byOperation.get(operationId);
      return r ? secretOf(r) : undefined;
    },
    current: (a: AccountKey): SecretRecord | undefined => {
      const r = q.current.get(...k(a));
      return r ? secretOf(r) : undefined;
    },
    nextVersion: (a: AccountKey): number => (q.maxVersion.pluck().get(...k(a)) ?? 0) + 1,
    /** The staged row becomes current, the old current previous; previous rows beyond `keep` are deleted. */
    promote(s: SecretRecord, now: Date, keep: number): void {
      q.demote.run(...k(s));
      q.promote.run(now.toISOString(), s.id);
      q.prune.run(...k(s), ...k(s), keep);
    },
    discard: (s: SecretRecord): boolean => q.deleteSecret.run(s.id).changes > 0,
    inFlight: (a: AccountKey): boolean => (q.stagedCount.pluck().get(...k(a)) ?? 0) > 0,
    versionsKept: (a: AccountKey): number => q.kept.pluck().get(...k(a)) ?? 0,
    history: (a: AccountKey): SecretRecord[] => q.history.all(...k(a)).map(secretOf),
    staged: (): SecretRecord[] => q.staged.all().map(secretOf),
    all: (): SecretRecord[] => q.all.all().map(secretOf),
    rewrap: (id: string, w: WrappedKey) => void q.rewrap.run(w.keyIv, w.wrappedKey, w.keyTag, id),
    count: (): number => q.count.pluck().get() ?? 0,

    ensureAccount: (a: AccountKey, now: Date) => void q.ensureAccount.run(...k(a), now.toISOString()),
    account: (a: AccountKey): EscrowAccountRecord | undefined => {
      const r = q.account.get(...k(a));
      return r ? accountOf(r) : undefined;
    },
    accounts: (): EscrowAccountRecord[] => q.accounts.all().map(accountOf),
    markRevealed: (a: AccountKey, now: Date) => void q.revealed.run(now.toISOString(), ...k(a)),
    /** Asks for a rotation at `at` unless one is already asked for earlier. */
    demandRotation: (a: AccountKey, at: Date, reason: string) =>
      void q.demand.run(at.toISOString(), reason, ...k(a), at.toISOString()),
    /** A new password took effect: nothing outstanding, back-off reset. */
    passwordSet: (a: AccountKey) => void q.passwordSet.run(...k(a)),
    rotationSucceeded: (a: AccountKey, now: Date) => void q.rotationDone.run(now.toISOString(), 'succeeded', ...k(a)),
    rotationFailed: (a: AccountKey, now: Date, outcome: string, countsAsFailure: boolean, nextAttempt: Date | null) =>
      void q.rotationFailed.run(
        now.toISOString(),
        outcome,
        countsAsFailure ? 1 : 0,
        nextAttempt?.toISOString() ?? null,
        ...k(a),
      ),
    setOutcome: (a: AccountKey, outcome: string) => void q.outcome.run(outcome, ...k(a)),
    clearBackoff: (a: AccountKey) => void q.clearBackoff.run(...k(a)),

    insertReveal: (
      r: Pick<
        RevealRecord,
        | 'id'
        | 'nodeId'
        | 'backend'
        | 'account'
        | 'requestedBy'
        | 'reason'
        | 'state'
        | 'needsApproval'
        | 'created'
        | 'expires'
      >,
    ) => void q.insertReveal.run({ ...r, needsApproval: r.needsApproval ? 1 : 0 }),
    reveal: (id: string): RevealRecord | undefined => {
      const r = q.reveal.get(id);
      return r ? revealOf(r) : undefined;
    },
    reveals: (o: { openOnly?: boolean; limit?: number } = {}): RevealRecord[] =>
      (o.openOnly ? q.openReveals : q.reveals).all(o.limit ?? 200).map(revealOf),
    /** pending → approved/rejected; false when it was not pending. */
    decide: (id: string, to: 'approved' | 'rejected', by: string, note: string, now: Date, expires: string): boolean =>
      q.decide.run(to, by, note, now.toISOString(), expires, id, 'pending').changes > 0,
    /** approved (or, without approval, a new reveal) → collected; false when it was not in `from`. */
    collect: (id: string, from: RevealRecordState, now: Date, version: number): boolean =>
      q.collect.run(now.toISOString(), version, id, from).changes > 0,
    expireReveals: (now: Date): number => q.expire.run(now.toISOString()).changes,
  };
}
