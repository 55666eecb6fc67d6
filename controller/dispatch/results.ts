/**
 * Results from agents. A result ends a dispatched operation: its state, the result fields, the account
 * state it observed and its audit record commit together, and the sealed secret is erased in the same
 * transaction. A result for an operation the controller does not know, that was sent to another node,
 * or that was never sent is rejected and audited; a repeat of an already recorded result is ignored.
 */
import type { OperationResult } from '../../shared/gen/fleetpass/v1/common';
import { OperationOutcome } from '../../shared/gen/fleetpass/v1/common';
import { recordAudited } from '../audit';
import type { AccountChange } from '../store';
import { nodeActor, type DispatchDeps } from './context';
import { publish, settleRequests } from './progress';
import { isFinal, stateForOutcome } from './state-machine';

export type ResultVerdict =
  | { accepted: true; operationId: string; state: string }
  | { accepted: false; code: 'FP_OPERATION_UNKNOWN'; reason: string }
  | { accepted: false; code: 'FP_OPERATION_DUPLICATE'; reason: string };

/** The one line an audit record keeps of a result (never a secret: agents send none back). */
function resultDetails(r: OperationResult): Record<string, unknown> {
  return {
    outcome: OperationOutcome[r.outcome] ?? String(r.outcome),
    errorCode: r.errorCode || undefined,
    failedStep: r.failedStep || undefined,
    replayed: r.replayed || undefined,
    notes: r.notes.length ? r.notes : undefined,
    message: r.message || undefined,
    lockedAfter: r.after ? r.after.locked : undefined,
  };
}

/** Records one result reported by `nodeId` (the certificate's identity). */
export function handleResult(deps: DispatchDeps, nodeId: string, result: OperationResult): ResultVerdict {
  const { store, audit, vault, clock, log } = deps;
  const ops = store.operations;
  const now = clock.now();
  const op = result.operationId ? ops.getOperation(result.operationId) : undefined;

  const reject = (reason: string, details: Record<string, unknown> = {}): ResultVerdict => {
    recordAudited(store.db, () =>
      audit.append({
        actor: nodeActor(nodeId),
        action: 'operation.result_rejected',
        nodeId,
        operationId: result.operationId.slice(0, 100),
        requestId: op?.requestId ?? '',
        account: op?.account ?? '',
        outcome: 'rejected',
        reason,
        details: { ...resultDetails(result), ...details },
      }),
    );
    log.warn({ nodeId, operationId: result.operationId.slice(0, 100), reason }, 'result rejected');
    return { accepted: false, code: 'FP_OPERATION_UNKNOWN', reason };
  };

  if (!op) return reject('the controller does not know this operation');
  if (op.nodeId !== nodeId) return reject('the operation was sent to another node', { sentTo: op.nodeId });
  if (op.state === 'requested' || op.state === 'approved')
    return reject(`the operation was never sent (it is ${op.state})`);
  if (isFinal(op.state)) {
    // A late answer to an operation the controller already gave up on still tells what happened on the node.
    if (op.state === 'expired' && result.outcome === OperationOutcome.OPERATION_OUTCOME_SUCCEEDED) {
      const changes = recordAudited(store.db, () => {
        audit.append({
          actor: nodeActor(nodeId),
          action: 'operation.result_late',
          nodeId,
          operationId: op.id,
          requestId: op.requestId,
          account: op.account,
          outcome: 'succeeded',
          reason: 'the result arrived after the operation expired',
          details: resultDetails(result),
        });
        return result.after ? store.accounts.apply(nodeId, [result.after], 'operation', now) : [];
      });
      emitAccounts(deps, nodeId, changes);
      log.warn({ nodeId, operationId: op.id }, 'late result recorded');
    } else {
      log.debug({ nodeId, operationId: op.id, state: op.state, replayed: result.replayed }, 'duplicate result ignored');
    }
    return { accepted: false, code: 'FP_OPERATION_DUPLICATE', reason: `the operation is already ${op.state}` };
  }

  const to = stateForOutcome(result.outcome);
  const changes = recordAudited(store.db, () => {
    if (!ops.transition(op.id, 'dispatched', to, nodeActor(nodeId), result.errorCode || '', now)) return undefined;
    ops.recordResult(op.id, {
      errorCode: result.errorCode,
      message: result.message,
      before: result.before,
      after: result.after,
      notes: result.notes,
      failedStep: result.failedStep,
      replayed: result.replayed,
      started: result.started,
      finished: result.finished,
    });
    vault.erase(op.id);
    ops.clearSecretFlag(op.id);
    audit.append({
      actor: nodeActor(nodeId),
      action: `operation.${to}`,
      nodeId,
      operationId: op.id,
      requestId: op.requestId,
      account: op.account,
      outcome: to,
      reason: result.errorCode || '',
      details: resultDetails(result),
    });
    const accountChanges = result.after ? store.accounts.apply(nodeId, [result.after], 'operation', now) : [];
    settleRequests(deps, [op.requestId], now);
    return accountChanges;
  });
  if (changes === undefined)
    return { accepted: false, code: 'FP_OPERATION_DUPLICATE', reason: 'the operation changed state meanwhile' };
  log.info(
    {
      nodeId,
      operationId: op.id,
      requestId: op.requestId,
      state: to,
      errorCode: result.errorCode || undefined,
      replayed: result.replayed,
    },
    'operation result recorded',
  );
  publish(deps, [op.id]);
  emitAccounts(deps, nodeId, changes);
  return { accepted: true, operationId: op.id, state: to };
}

function emitAccounts(deps: DispatchDeps, nodeId: string, changes: AccountChange[]): void {
  if (changes.length) deps.events.emit({ type: 'accounts', nodeId, changes });
}
