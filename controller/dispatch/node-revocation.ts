/**
 * When a node is revoked, its open work ends with it, so the node id enrolled again (or a copy of the old
 * node) never receives it: operations waiting for it (requested, approved) are cancelled, those already
 * sent (dispatched) expire, as the node can no longer report a result. Each sealed password is erased,
 * each end audited, and requests left with nothing open are settled.
 */
import type { DispatchDeps } from './context';
import { settleRequests } from './progress';

/**
 * Ends every open operation of `nodeId`. Runs inside the caller's transaction (the one that marks the node
 * revoked); returns the ids that changed, to publish once it committed.
 */
export function closeNodeOperations(
  deps: DispatchDeps,
  nodeId: string,
  by: { actor: string; reason: string },
  now: Date,
): string[] {
  const { store, audit, vault } = deps;
  const ops = store.operations;
  const closed: string[] = [];
  const requests = new Set<string>();
  for (const op of ops.openOfNode(nodeId)) {
    const to = op.state === 'dispatched' ? 'expired' : 'cancelled';
    const why =
      op.state === 'dispatched'
        ? 'node revoked before it reported a result'
        : 'node revoked before the operation was sent';
    if (!ops.transition(op.id, op.state, to, by.actor, why, now)) continue;
    vault.erase(op.id);
    ops.clearSecretFlag(op.id);
    audit.append({
      actor: by.actor,
      action: `operation.${to}`,
      nodeId,
      operationId: op.id,
      requestId: op.requestId,
      account: op.account,
      outcome: to,
      reason: why,
      details: { from: op.state, revocationReason: by.reason },
    });
    closed.push(op.id);
    requests.add(op.requestId);
  }
  settleRequests(deps, requests, now);
  return closed;
}
