/** Closing change requests whose operations are all final, and publishing what changed after commit. */
import type { ChangeRequestRecord } from '../store';
import { CONTROLLER_ACTOR, type DispatchDeps } from './context';
import { requestStateAfterUpdate } from './state-machine';

/** Inside the transaction that finalised operations: requests with nothing left open become done. */
export function settleRequests(deps: DispatchDeps, requestIds: Iterable<string>, now: Date): void {
  const ops = deps.store.operations;
  for (const id of new Set(requestIds)) {
    const cr = ops.getRequest(id);
    if (!cr || cr.state === 'done') continue;
    const next = requestStateAfterUpdate(cr.state, ops.unfinishedCount(id));
    if (next !== cr.state) {
      ops.setRequestState(id, next, now);
      deps.audit.append({
        actor: CONTROLLER_ACTOR,
        action: 'request.done',
        requestId: id,
        account: cr.account,
        outcome: 'done',
        details: { counts: ops.countsOf(id) },
      });
    }
  }
}

/** After commit: one event per changed operation, then one per touched request. */
export function publish(deps: DispatchDeps, operationIds: Iterable<string>): void {
  const ops = deps.store.operations;
  const requests = new Map<string, ChangeRequestRecord>();
  const changed = [];
  for (const id of new Set(operationIds)) {
    const op = ops.getOperation(id);
    if (!op) continue;
    let cr = requests.get(op.requestId);
    if (!cr) {
      cr = ops.getRequest(op.requestId);
      if (!cr) continue;
      requests.set(cr.id, cr);
    }
    changed.push({ op, cr });
  }
  for (const { op, cr } of changed) deps.events.emit({ type: 'operation', operation: op, request: cr });
  for (const cr of requests.values()) deps.events.emit({ type: 'request', request: cr });
}
