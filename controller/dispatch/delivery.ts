/**
 * Delivery of operations to connected nodes. For each batch, one transaction moves the operations to
 * dispatched and writes an audit record per send; only after it commits are the messages queued on the
 * nodes' streams (queueing never blocks, and each node has its own queue, so a slow node delays only
 * itself). Between batches the event loop gets a turn. A node that reconnects receives its approved
 * operations and, again, any dispatched one that has no result yet (the agent's journal answers a
 * repeat without applying it twice).
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { FleetpassError, asFleetpassError } from '../../shared/errors';
import type { Operation } from '../../shared/gen/fleetpass/v1/agent';
import { Action } from '../../shared/gen/fleetpass/v1/common';
import { recordAudited } from '../audit';
import type { ChangeRequestRecord, OperationRecord } from '../store';
import { CONTROLLER_ACTOR, type DispatchDeps, type NodeChannel } from './context';
import { expireOperation } from './expiry';
import { publish, settleRequests } from './progress';

interface Outgoing {
  op: OperationRecord;
  channel: NodeChannel;
  message: Operation;
}

function toMessage(op: OperationRecord, cr: ChangeRequestRecord, secret: string | undefined): Operation {
  return {
    id: op.id,
    backend: op.backend,
    account: op.account,
    action: op.action,
    newSecret: secret ?? '',
    expires: new Date(op.expires),
    requestedBy: cr.requestedBy,
    approvedBy: cr.approvedBy,
    reason: cr.reason,
    created: new Date(op.created),
    requireIdle: cr.requireIdle,
    temporary: cr.temporary,
  };
}

/**
 * Records and sends one batch. Operations whose node is offline, or that another path already moved,
 * are skipped (they wait for the node's next connection); approved ones past their expiry (say, approved
 * after it but before the expiry job ran) are expired instead. Throws FP_AUDIT_WRITE_FAILED with nothing sent.
 */
function sendBatch(
  deps: DispatchDeps,
  batch: readonly OperationRecord[],
  redeliver: boolean,
): { sent: string[]; expired: string[] } {
  const { store, audit, vault, channels, clock } = deps;
  const ops = store.operations;
  const now = clock.now();
  const requests = new Map<string, ChangeRequestRecord>();
  const expired: string[] = [];
  const outgoing = recordAudited(store.db, () => {
    const out: Outgoing[] = [];
    for (const candidate of batch) {
      const channel = channels.get(candidate.nodeId);
      if (!channel) continue;
      const op = ops.getOperation(candidate.id);
      if (!op) continue;
      if (op.state === 'approved') {
        if (op.expires <= now.toISOString()) {
          // An approved operation found past its expiry is expired, never sent.
          if (expireOperation(deps, op, 'expired before it could be sent', now)) expired.push(op.id);
          continue;
        }
        if (!ops.transition(op.id, 'approved', 'dispatched', CONTROLLER_ACTOR, 'sent to node', now)) continue;
      } else if (!redeliver || op.state !== 'dispatched' || op.expires <= now.toISOString()) {
        continue;
      }
      ops.markDispatched(op.id, now);
      let cr = requests.get(op.requestId);
      if (!cr) {
        cr = ops.getRequest(op.requestId)!;
        requests.set(cr.id, cr);
      }
      const secret = op.hasSecret ? vault.open(op.id) : undefined;
      if (op.action === Action.ACTION_RESET_PASSWORD && !secret) {
        throw new FleetpassError('FP_SECRET_MISSING', `operation ${op.id} lost its sealed password`);
      }
      audit.append({
        actor: CONTROLLER_ACTOR,
        action: 'operation.dispatched',
        requestId: op.requestId,
        operationId: op.id,
        nodeId: op.nodeId,
        account: op.account,
        outcome: 'dispatched',
        details: { attempt: op.attempts + 1, redelivery: op.state === 'dispatched' },
      });
      out.push({ op, channel, message: toMessage(op, cr, secret) });
    }
    if (expired.length)
      settleRequests(
        deps,
        expired.map((id) => ops.getOperation(id)!.requestId),
        now,
      );
    return out;
  });
  if (expired.length)
    deps.log.warn({ operations: expired.length }, 'approved operations past their expiry were expired instead of sent');
  for (const o of outgoing) {
    // The message may wait in the node's queue (backpressure), so it keeps its secret until written.
    if (!o.channel.send({ message: { $case: 'operation', operation: o.message } })) {
      deps.log.warn(
        { operationId: o.op.id, nodeId: o.op.nodeId },
        'node stream closed before send; will redeliver on reconnect',
      );
    }
  }
  return { sent: outgoing.map((o) => o.op.id), expired };
}

/**
 * Dispatches the given approved operations (by id) to whichever of their nodes are connected, in
 * batches; with `redeliver`, dispatched ones without a result are sent again too (reconnects only).
 * Returns the error that stopped it, if any (already logged); operations not sent stay approved.
 */
export async function dispatchOperations(
  deps: DispatchDeps,
  operationIds: readonly string[],
  redeliver = false,
): Promise<FleetpassError | undefined> {
  const size = deps.settings.batchSize ?? 200;
  const ops = deps.store.operations;
  let sent = 0;
  for (let i = 0; i < operationIds.length; i += size) {
    const batch = operationIds
      .slice(i, i + size)
      .map((id) => ops.getOperation(id))
      .filter((o): o is OperationRecord => !!o && deps.channels.get(o.nodeId) !== undefined);
    if (batch.length > 0) {
      let ids: string[];
      try {
        const done = sendBatch(deps, batch, redeliver);
        ids = done.sent;
        publish(deps, done.expired);
      } catch (e) {
        const err = asFleetpassError(e);
        deps.log.error({ err, code: err.code, operations: batch.length }, 'dispatch failed; nothing sent');
        return err;
      }
      sent += ids.length;
      for (const id of ids)
        deps.log.info({ operationId: id, nodeId: ops.getOperation(id)?.nodeId }, 'operation dispatched');
      publish(deps, ids);
    }
    if (i + size < operationIds.length) await yieldToLoop();
  }
  if (operationIds.length > 0) deps.log.debug({ requested: operationIds.length, sent }, 'dispatch wave done');
  return undefined;
}

/** On (re)connect: everything the node should have and has not answered, oldest first. */
export async function deliverPending(deps: DispatchDeps, nodeId: string): Promise<FleetpassError | undefined> {
  const pending = deps.store.operations.deliverableFor(nodeId, deps.clock.now());
  if (pending.length === 0) return undefined;
  deps.log.info({ nodeId, operations: pending.length }, 'delivering pending operations');
  return dispatchOperations(
    deps,
    pending.map((o) => o.id),
    true,
  );
}

/** Job: retry approved operations whose node is connected (e.g. after the data file refused a write). */
export async function retryApproved(deps: DispatchDeps): Promise<FleetpassError | undefined> {
  const live = deps.store.operations.approvedLive(deps.clock.now()).filter((o) => deps.channels.get(o.nodeId));
  return dispatchOperations(
    deps,
    live.map((o) => o.id),
  );
}
