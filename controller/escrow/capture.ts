/**
 * Capturing passwords for escrow. Every reset fleetpass sends (an operator's, a rotation's) waits sealed
 * in the dispatcher's vault from the moment its request commits; escrow copies it from there, sealed
 * under its own envelope, as a *staged* version, in the event that follows the commit (before dispatch).
 * When the operation succeeds the staged version becomes *current* (the old one *previous*, history
 * pruned); when it fails, is refused, expires or is cancelled the staged copy is discarded and the old
 * current one stays valid. `reconcile` repeats both after a restart, for events missed while stopped.
 */
import { randomUUID } from 'node:crypto';
import { asFleetpassError } from '../../shared/errors';
import { Action } from '../../shared/gen/fleetpass/v1/common';
import { isFinal } from '../dispatch';
import type { ChangeRequestRecord, OperationRecord } from '../store';
import { assertKeyCurrent, audited, ESCROW_ACTOR, ROTATION_ACTOR, type EscrowDeps } from './escrow-deps';
import type { AccountKey } from './escrow-repo';
import { sealSecret } from './envelope';
import { retryDelayMs } from './rotation-schedule';

function keyOf(op: OperationRecord): AccountKey {
  return { nodeId: op.nodeId, backend: op.backend, account: op.account };
}

/** Stages the password of an open reset operation (idempotent). */
export function stage(d: EscrowDeps, op: OperationRecord, request: ChangeRequestRecord): void {
  if (op.action !== Action.ACTION_RESET_PASSWORD || isFinal(op.state) || !op.hasSecret) return;
  if (d.repo.byOperation(op.id)) return;
  const password = d.vault.open(op.id);
  if (password === undefined) {
    d.log.warn({ operationId: op.id, nodeId: op.nodeId }, 'no sealed password to escrow for this operation');
    return;
  }
  const now = d.clock.now();
  const a = keyOf(op);
  d.store.db.transaction(() => {
    assertKeyCurrent(d);
    const version = d.repo.nextVersion(a);
    d.repo.insertStaged({
      id: randomUUID(),
      ...a,
      version,
      operationId: op.id,
      requestId: op.requestId,
      setBy: request.requestedBy,
      staged: now.toISOString(),
      sealed: sealSecret(d.master.key, password, { ...a, version }),
    });
    d.repo.ensureAccount(a, now);
  })();
  d.log.debug({ operationId: op.id, nodeId: op.nodeId, account: op.account }, 'password staged for escrow');
}

/** The outcome word a status shows for a final operation. */
function outcomeOf(op: OperationRecord): string {
  return op.errorCode ? `${op.state}: ${op.errorCode}` : op.state;
}

/** Promotes or discards the staged password of a final operation (idempotent), and records a rotation's outcome. */
export function settle(d: EscrowDeps, op: OperationRecord, request: ChangeRequestRecord): void {
  if (op.action !== Action.ACTION_RESET_PASSWORD || !isFinal(op.state)) return;
  const staged = d.repo.byOperation(op.id);
  if (!staged || staged.state !== 'staged') return;
  const a = keyOf(op);
  const now = d.clock.now();
  const rotation = request.requestedBy === ROTATION_ACTOR;
  const facts = {
    actor: ESCROW_ACTOR,
    nodeId: op.nodeId,
    account: op.account,
    operationId: op.id,
    requestId: op.requestId,
  };
  audited(d, (audit) => {
    if (op.state === 'succeeded') {
      d.repo.promote(staged, now, d.config.history);
      d.repo.passwordSet(a);
      if (rotation) d.repo.rotationSucceeded(a, now);
      audit.append({
        ...facts,
        action: 'escrow.stored',
        outcome: 'current',
        details: { version: staged.version, setBy: staged.setBy, rotation },
      });
    } else {
      d.repo.discard(staged);
      if (rotation) {
        // A busy instrument is not a failure: the next pass waits for the node to say it is idle.
        const busy = op.errorCode === 'FP_NODE_BUSY';
        const failures = (d.repo.account(a)?.failures ?? 0) + 1;
        d.repo.rotationFailed(
          a,
          now,
          outcomeOf(op),
          !busy,
          busy ? null : new Date(now.getTime() + retryDelayMs(failures, d.config.retry)),
        );
      }
      audit.append({
        ...facts,
        action: 'escrow.discarded',
        outcome: op.state,
        reason: op.errorCode,
        details: { version: staged.version, rotation, kept: 'the previous password stays current' },
      });
    }
  });
  d.log.info(
    { operationId: op.id, nodeId: op.nodeId, account: op.account, state: op.state, rotation },
    op.state === 'succeeded' ? 'escrowed password now current' : 'staged password discarded',
  );
}

/** Handles one operation event; errors are logged (the event bus must not be disturbed). */
export function onOperation(d: EscrowDeps, op: OperationRecord, request: ChangeRequestRecord): void {
  try {
    if (isFinal(op.state)) settle(d, op, request);
    else stage(d, op, request);
  } catch (e) {
    d.log.error(
      { err: asFleetpassError(e), operationId: op.id, nodeId: op.nodeId },
      'escrow could not record a password change',
    );
  }
}

/** After a start: stage what is waiting in the vault and settle what finished while escrow was not listening. */
export function reconcile(d: EscrowDeps): { staged: number; settled: number } {
  const ops = d.store.operations;
  const open = d.store.db
    .prepare<[number], string>(
      "SELECT id FROM operations WHERE action = ? AND has_secret = 1 AND state IN ('requested', 'approved', 'dispatched')",
    )
    .pluck()
    .all(Action.ACTION_RESET_PASSWORD);
  let staged = 0;
  for (const id of open) {
    const op = ops.getOperation(id);
    const cr = op && ops.getRequest(op.requestId);
    if (op && cr && !d.repo.byOperation(id)) {
      onOperation(d, op, cr);
      staged++;
    }
  }
  let settled = 0;
  for (const s of d.repo.staged()) {
    const op = ops.getOperation(s.operationId);
    const cr = op && ops.getRequest(op.requestId);
    if (op && cr && isFinal(op.state)) {
      onOperation(d, op, cr);
      settled++;
    }
  }
  return { staged, settled };
}
