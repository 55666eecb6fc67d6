/**
 * Change requests, their per-node operations and every operation state transition. State changes are
 * compare-and-set (`WHERE state = from`), so two writers can never both move an operation; the legal
 * transitions themselves are decided in dispatch/state-machine.ts.
 */
import { AccountState, type Action, type Backend } from '../../shared/gen/fleetpass/v1/common';
import type { Db } from './database';

export const OPERATION_STATES = [
  'requested',
  'approved',
  'dispatched',
  'succeeded',
  'failed',
  'refused',
  'expired',
  'cancelled',
] as const;
export type OperationState = (typeof OPERATION_STATES)[number];

export const CHANGE_REQUEST_STATES = ['pending_approval', 'approved', 'rejected', 'cancelled', 'done'] as const;
export type ChangeRequestState = (typeof CHANGE_REQUEST_STATES)[number];

export interface ChangeRequestRecord {
  id: string;
  requestedBy: string;
  reason: string;
  backend: Backend;
  account: string;
  action: Action;
  state: ChangeRequestState;
  needsApproval: boolean;
  privileged: boolean;
  temporary: boolean;
  requireIdle: boolean;
  approvedBy: string;
  rejectedBy: string;
  decisionNote: string;
  created: string;
  updated: string;
  expires: string;
}

export interface OperationRecord {
  id: string;
  requestId: string;
  nodeId: string;
  backend: Backend;
  account: string;
  action: Action;
  state: OperationState;
  /** A sealed secret waits in pending_secrets (never the secret itself). */
  hasSecret: boolean;
  created: string;
  updated: string;
  expires: string;
  dispatchedAt: string | null;
  /** How many times it was written to a node's stream (redeliveries after reconnects count). */
  attempts: number;
  errorCode: string;
  message: string;
  before: AccountState | undefined;
  after: AccountState | undefined;
  notes: string[];
  failedStep: string;
  replayed: boolean;
  started: string | null;
  finished: string | null;
}

export interface TransitionRecord {
  operationId: string;
  from: OperationState;
  to: OperationState;
  time: string;
  actor: string;
  note: string;
}

export interface OperationResultFields {
  errorCode: string;
  message: string;
  before?: AccountState;
  after?: AccountState;
  notes: readonly string[];
  failedStep: string;
  replayed: boolean;
  started?: Date;
  finished?: Date;
}

interface CrRow {
  id: string;
  requested_by: string;
  reason: string;
  backend: number;
  account: string;
  action: number;
  state: string;
  needs_approval: number;
  privileged: number;
  temporary: number;
  require_idle: number;
  approved_by: string;
  rejected_by: string;
  decision_note: string;
  created: string;
  updated: string;
  expires: string;
}

interface OpRow {
  id: string;
  request_id: string;
  node_id: string;
  backend: number;
  account: string;
  action: number;
  state: string;
  has_secret: number;
  created: string;
  updated: string;
  expires: string;
  dispatched_at: string | null;
  attempts: number;
  error_code: string;
  message: string;
  before_json: string | null;
  after_json: string | null;
  notes_json: string;
  failed_step: string;
  replayed: number;
  started: string | null;
  finished: string | null;
}

function crFromRow(r: CrRow): ChangeRequestRecord {
  return {
    id: r.id,
    requestedBy: r.requested_by,
    reason: r.reason,
    backend: r.backend,
    account: r.account,
    action: r.action,
    state: r.state as ChangeRequestState,
    needsApproval: r.needs_approval === 1,
    privileged: r.privileged === 1,
    temporary: r.temporary === 1,
    requireIdle: r.require_idle === 1,
    approvedBy: r.approved_by,
    rejectedBy: r.rejected_by,
    decisionNote: r.decision_note,
    created: r.created,
    updated: r.updated,
    expires: r.expires,
  };
}

function opFromRow(r: OpRow): OperationRecord {
  return {
    id: r.id,
    requestId: r.request_id,
    nodeId: r.node_id,
    backend: r.backend,
    account: r.account,
    action: r.action,
    state: r.state as OperationState,
    hasSecret: r.has_secret === 1,
    created: r.created,
    updated: r.updated,
    expires: r.expires,
    dispatchedAt: r.dispatched_at,
    attempts: r.attempts,
    errorCode: r.error_code,
    message: r.message,
    before: r.before_json ? AccountState.fromJSON(JSON.parse(r.before_json)) : undefined,
    after: r.after_json ? AccountState.fromJSON(JSON.parse(r.after_json)) : undefined,
    notes: JSON.parse(r.notes_json),
    failedStep: r.failed_step,
    replayed: r.replayed === 1,
    started: r.started,
    finished: r.finished,
  };
}

// Open (not final) states: counted through the (request_id, state) index, so checking a wave's progress after
// each result reads only the operations still open, not the whole wave.
const OPEN_SQL = "('requested','approved','dispatched')";

export type OperationsRepo = ReturnType<typeof createOperationsRepo>;

/** Prepared statements over change_requests, operations and operation_transitions. */
export function createOperationsRepo(db: Db) {
  const insertCr =
    db.prepare(`INSERT INTO change_requests (id, requested_by, reason, backend, account, action, state, needs_approval, privileged,
    temporary, require_idle, approved_by, rejected_by, decision_note, created, updated, expires)
    VALUES (@id, @requestedBy, @reason, @backend, @account, @action, @state, @needsApproval, @privileged, @temporary, @requireIdle,
    @approvedBy, @rejectedBy, @decisionNote, @created, @updated, @expires)`);
  const insertOp =
    db.prepare(`INSERT INTO operations (id, request_id, node_id, backend, account, action, state, has_secret, created, updated, expires)
    VALUES (@id, @requestId, @nodeId, @backend, @account, @action, @state, @hasSecret, @created, @updated, @expires)`);
  const insertTransition = db.prepare(
    'INSERT INTO operation_transitions (operation_id, from_state, to_state, time, actor, note) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const getCr = db.prepare<[string], CrRow>('SELECT * FROM change_requests WHERE id = ?');
  const getOp = db.prepare<[string], OpRow>('SELECT * FROM operations WHERE id = ?');
  const opsOfCr = db.prepare<[string], OpRow>('SELECT * FROM operations WHERE request_id = ? ORDER BY node_id');
  const countsOfCr = db.prepare<[string], { state: string; n: number }>(
    'SELECT state, count(*) AS n FROM operations WHERE request_id = ? GROUP BY state',
  );
  const casState = db.prepare('UPDATE operations SET state = ?, updated = ? WHERE id = ? AND state = ?');
  const markDispatched = db.prepare('UPDATE operations SET dispatched_at = ?, attempts = attempts + 1 WHERE id = ?');
  const setResult =
    db.prepare(`UPDATE operations SET error_code = @errorCode, message = @message, before_json = @before, after_json = @after,
    notes_json = @notes, failed_step = @failedStep, replayed = @replayed, started = @started, finished = @finished WHERE id = @id`);
  const clearSecretFlag = db.prepare('UPDATE operations SET has_secret = 0 WHERE id = ?');
  const setCrState = db.prepare(`UPDATE change_requests SET state = @state, updated = @updated,
    approved_by = coalesce(@approvedBy, approved_by), rejected_by = coalesce(@rejectedBy, rejected_by),
    decision_note = coalesce(@decisionNote, decision_note) WHERE id = @id`);
  const deliverable = db.prepare<[string, string], OpRow>(
    "SELECT * FROM operations WHERE node_id = ? AND state IN ('approved', 'dispatched') AND expires > ? ORDER BY created, id",
  );
  const openOfNode = db.prepare<[string], OpRow>(
    "SELECT * FROM operations WHERE node_id = ? AND state IN ('requested', 'approved', 'dispatched') ORDER BY created, id",
  );
  const approvedLive = db.prepare<[string], OpRow>(
    "SELECT * FROM operations WHERE state = 'approved' AND expires > ? ORDER BY created, id",
  );
  const expirable = db.prepare<[string, string], OpRow>(
    "SELECT * FROM operations WHERE (state IN ('requested', 'approved') AND expires <= ?) OR (state = 'dispatched' AND expires <= ?)",
  );
  const unfinishedOfCr = db.prepare<[string], { n: number }>(
    `SELECT count(*) AS n FROM operations WHERE request_id = ? AND state IN ${OPEN_SQL}`,
  );
  const transitionsOf = db.prepare<
    [string],
    { operation_id: string; from_state: string; to_state: string; time: string; actor: string; note: string }
  >('SELECT * FROM operation_transitions WHERE operation_id = ? ORDER BY id');

  return {
    insertRequest(cr: ChangeRequestRecord): void {
      insertCr.run({
        ...cr,
        needsApproval: cr.needsApproval ? 1 : 0,
        privileged: cr.privileged ? 1 : 0,
        temporary: cr.temporary ? 1 : 0,
        requireIdle: cr.requireIdle ? 1 : 0,
      });
    },
    /** Inserts an operation and its creation transition ("" → state). */
    insertOperation(
      op: Pick<
        OperationRecord,
        'id' | 'requestId' | 'nodeId' | 'backend' | 'account' | 'action' | 'state' | 'hasSecret' | 'created' | 'expires'
      >,
      actor: string,
    ): void {
      insertOp.run({ ...op, hasSecret: op.hasSecret ? 1 : 0, updated: op.created });
      insertTransition.run(op.id, '', op.state, op.created, actor, 'created');
    },
    getRequest(id: string): ChangeRequestRecord | undefined {
      const r = getCr.get(id);
      return r ? crFromRow(r) : undefined;
    },
    getOperation(id: string): OperationRecord | undefined {
      const r = getOp.get(id);
      return r ? opFromRow(r) : undefined;
    },
    operationsOf(requestId: string): OperationRecord[] {
      return opsOfCr.all(requestId).map(opFromRow);
    },
    countsOf(requestId: string): Partial<Record<OperationState, number>> {
      return Object.fromEntries(countsOfCr.all(requestId).map((r) => [r.state, r.n]));
    },
    unfinishedCount(requestId: string): number {
      return unfinishedOfCr.get(requestId)!.n;
    },
    listRequests(filter: { states?: readonly ChangeRequestState[]; limit?: number } = {}): ChangeRequestRecord[] {
      const limit = Math.min(Math.max(filter.limit || 100, 1), 1000);
      const where = filter.states?.length ? 'WHERE state IN (SELECT value FROM json_each(?))' : '';
      const params: unknown[] = filter.states?.length ? [JSON.stringify(filter.states), limit] : [limit];
      return (
        db
          .prepare(`SELECT * FROM change_requests ${where} ORDER BY created DESC, id DESC LIMIT ?`)
          .all(...params) as CrRow[]
      ).map(crFromRow);
    },
    /** Compare-and-set of an operation's state plus its transition row; false when it was not in `from`. */
    transition(id: string, from: OperationState, to: OperationState, actor: string, note: string, now: Date): boolean {
      const t = now.toISOString();
      if (casState.run(to, t, id, from).changes !== 1) return false;
      insertTransition.run(id, from, to, t, actor, note);
      return true;
    },
    markDispatched(id: string, now: Date): void {
      markDispatched.run(now.toISOString(), id);
    },
    recordResult(id: string, r: OperationResultFields): void {
      setResult.run({
        id,
        errorCode: r.errorCode,
        message: r.message,
        before: r.before ? JSON.stringify(AccountState.toJSON(r.before)) : null,
        after: r.after ? JSON.stringify(AccountState.toJSON(r.after)) : null,
        notes: JSON.stringify(r.notes),
        failedStep: r.failedStep,
        replayed: r.replayed ? 1 : 0,
        started: r.started?.toISOString() ?? null,
        finished: r.finished?.toISOString() ?? null,
      });
    },
    clearSecretFlag(id: string): void {
      clearSecretFlag.run(id);
    },
    setRequestState(
      id: string,
      state: ChangeRequestState,
      now: Date,
      fields: { approvedBy?: string; rejectedBy?: string; decisionNote?: string } = {},
    ): void {
      setCrState.run({
        id,
        state,
        updated: now.toISOString(),
        approvedBy: fields.approvedBy ?? null,
        rejectedBy: fields.rejectedBy ?? null,
        decisionNote: fields.decisionNote ?? null,
      });
    },
    /** What a (re)connecting node should receive: approved, and dispatched without a result, not expired. */
    deliverableFor(nodeId: string, now: Date): OperationRecord[] {
      return deliverable.all(nodeId, now.toISOString()).map(opFromRow);
    },
    /** Every operation of the node that is not final yet (requested, approved or dispatched), expired or not. */
    openOfNode(nodeId: string): OperationRecord[] {
      return openOfNode.all(nodeId).map(opFromRow);
    },
    /** Every approved, unexpired operation (for retrying dispatch to online nodes). */
    approvedLive(now: Date): OperationRecord[] {
      return approvedLive.all(now.toISOString()).map(opFromRow);
    },
    /** Waiting operations past their expiry, and dispatched ones past expiry plus the result grace. */
    expirable(now: Date, dispatchedBefore: Date): OperationRecord[] {
      return expirable.all(now.toISOString(), dispatchedBefore.toISOString()).map(opFromRow);
    },
    transitionsOf(id: string): TransitionRecord[] {
      return transitionsOf.all(id).map((r) => ({
        operationId: r.operation_id,
        from: r.from_state as OperationState,
        to: r.to_state as OperationState,
        time: r.time,
        actor: r.actor,
        note: r.note,
      }));
    },
  };
}
