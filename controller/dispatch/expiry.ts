/**
 * Expiry of operations that did not happen in time: waiting ones (requested, approved) at their expiry,
 * dispatched ones without a result at expiry plus the result grace (the agent refuses anything past
 * expiry, so nothing can still be applied). Each expiry erases the sealed secret and is audited.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { recordAudited } from '../audit';
import type { OperationRecord } from '../store';
import { CONTROLLER_ACTOR, type DispatchDeps } from './context';
import { publish, settleRequests } from './progress';

/**
 * Inside the caller's transaction: moves one operation from the state it was read in to expired, erases its
 * sealed secret and audits it. False when another path moved it first (nothing is written then).
 */
export function expireOperation(deps: DispatchDeps, op: OperationRecord, why: string, now: Date): boolean {
  const { store, audit, vault } = deps;
  if (!store.operations.transition(op.id, op.state, 'expired', CONTROLLER_ACTOR, why, now)) return false;
  vault.erase(op.id);
  store.operations.clearSecretFlag(op.id);
  audit.append({
    actor: CONTROLLER_ACTOR,
    action: 'operation.expired',
    nodeId: op.nodeId,
    operationId: op.id,
    requestId: op.requestId,
    account: op.account,
    outcome: 'expired',
    reason: why,
    details: { from: op.state, expires: op.expires },
  });
  return true;
}

/** Expires everything due at the clock's now; returns how many operations expired. */
export async function expireDue(deps: DispatchDeps): Promise<number> {
  const { store, clock, log, settings } = deps;
  const now = clock.now();
  const due = store.operations.expirable(now, new Date(now.getTime() - settings.resultGraceSeconds * 1000));
  const size = settings.batchSize ?? 200;
  let expired = 0;
  for (let i = 0; i < due.length; i += size) {
    const batch = due.slice(i, i + size);
    const ids = recordAudited(store.db, () => {
      const done: string[] = [];
      for (const op of batch) {
        const why = op.state === 'dispatched' ? 'no result from the node in time' : 'not delivered to the node in time';
        if (expireOperation(deps, op, why, now)) done.push(op.id);
      }
      settleRequests(
        deps,
        batch.map((o) => o.requestId),
        now,
      );
      return done;
    });
    for (const id of ids) log.info({ operationId: id }, 'operation expired');
    publish(deps, ids);
    expired += ids.length;
    if (i + size < due.length) await yieldToLoop();
  }
  return expired;
}
