/**
 * Change requests: one action on one account across a set of nodes, one operation per node. The admin
 * layer decides who may ask, whether approval is needed and where passwords come from; these functions
 * validate, record (state, transitions, sealed secrets and audit in one transaction) and hand approved
 * operations to delivery. Nothing is sent unless its record committed.
 */
import { randomUUID } from 'node:crypto';
import { FleetpassError, changeRequestNotFound, nodeUnknown } from '../../shared/errors';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { recordAudited } from '../audit';
import type { ChangeRequestRecord, OperationRecord } from '../store';
import type { DispatchDeps } from './context';
import { dispatchOperations } from './delivery';
import { publish } from './progress';
import { assertRequestShape } from './request-rules';
import { assertTransition } from './state-machine';

export interface ChangeTarget {
  nodeId: string;
  /** The new password for ACTION_RESET_PASSWORD (per node, so generated passwords differ). */
  secret?: string;
}

export interface CreateChangeRequestInput {
  requestedBy: string;
  reason: string;
  backend: Backend;
  account: string;
  action: Action;
  targets: readonly ChangeTarget[];
  /** Decided by the admin layer's policy: true holds every operation until approveChangeRequest. */
  needsApproval: boolean;
  privileged?: boolean;
  /** 0 or undefined: the configured default. */
  ttlSeconds?: number;
  temporary?: boolean;
  requireIdle?: boolean;
}

export interface ChangeRequestResult {
  request: ChangeRequestRecord;
  operations: OperationRecord[];
  /** Set when the request was recorded but sending to online nodes failed (they are retried later). */
  dispatchError?: FleetpassError;
}

export interface DecisionInput {
  /** Who decides (approver, rejecter or canceller). */
  actor: string;
  note?: string;
}

/** The last line of defence: the same shape rules as the admin layer, then who asked and the targets. */
function validate(deps: DispatchDeps, input: CreateChangeRequestInput): void {
  assertRequestShape(input);
  if (!input.requestedBy?.trim())
    throw new FleetpassError('FP_INVALID_ARGUMENT', 'a change request needs the name of who asked for it');
  if (input.targets.length === 0) throw new FleetpassError('FP_NO_NODES_MATCHED');
  const seen = new Set<string>();
  for (const t of input.targets) {
    if (seen.has(t.nodeId)) throw new FleetpassError('FP_INVALID_ARGUMENT', `node ${t.nodeId} is listed twice`);
    seen.add(t.nodeId);
    const isReset = input.action === Action.ACTION_RESET_PASSWORD;
    if (isReset && !t.secret)
      throw new FleetpassError('FP_SECRET_MISSING', `a password reset needs a new password for node ${t.nodeId}`);
    if (!isReset && t.secret)
      throw new FleetpassError('FP_INVALID_ARGUMENT', 'only a password reset carries a password');
    const node = deps.store.nodes.get(t.nodeId);
    if (!node) throw nodeUnknown(t.nodeId);
    if (node.revoked) throw new FleetpassError('FP_NODE_REVOKED', `node ${t.nodeId} has been revoked`);
  }
}

/** Records a change request with one operation per target, then dispatches it when no approval is needed. */
export async function createChangeRequest(
  deps: DispatchDeps,
  input: CreateChangeRequestInput,
): Promise<ChangeRequestResult> {
  validate(deps, input);
  const now = deps.clock.now();
  const ttl = input.ttlSeconds || deps.settings.operationTtlSeconds;
  const expires = new Date(now.getTime() + ttl * 1000).toISOString();
  const created = now.toISOString();
  const request: ChangeRequestRecord = {
    id: randomUUID(),
    requestedBy: input.requestedBy,
    reason: input.reason,
    backend: input.backend,
    account: input.account,
    action: input.action,
    state: input.needsApproval ? 'pending_approval' : 'approved',
    needsApproval: input.needsApproval,
    privileged: input.privileged ?? false,
    temporary: input.temporary ?? false,
    requireIdle: input.requireIdle ?? false,
    approvedBy: '',
    rejectedBy: '',
    decisionNote: '',
    created,
    updated: created,
    expires,
  };
  const ops = deps.store.operations;
  const operationIds = recordAudited(deps.store.db, () => {
    ops.insertRequest(request);
    deps.audit.append({
      actor: input.requestedBy,
      action: 'request.created',
      requestId: request.id,
      account: input.account,
      outcome: request.state,
      reason: input.reason,
      details: {
        action: Action[input.action],
        backend: Backend[input.backend],
        nodes: input.targets.length,
        needsApproval: input.needsApproval,
        privileged: request.privileged,
        ttlSeconds: ttl,
        temporary: request.temporary,
      },
    });
    const ids: string[] = [];
    for (const t of input.targets) {
      const id = randomUUID();
      ops.insertOperation(
        {
          id,
          requestId: request.id,
          nodeId: t.nodeId,
          backend: input.backend,
          account: input.account,
          action: input.action,
          state: 'requested',
          hasSecret: !!t.secret,
          created,
          expires,
        },
        input.requestedBy,
      );
      if (t.secret) deps.vault.seal(id, t.secret, now);
      if (!input.needsApproval) {
        assertTransition('requested', 'approved');
        ops.transition(id, 'requested', 'approved', input.requestedBy, 'no approval needed', now);
      }
      deps.audit.append({
        actor: input.requestedBy,
        action: 'operation.requested',
        requestId: request.id,
        operationId: id,
        nodeId: t.nodeId,
        account: input.account,
        outcome: input.needsApproval ? 'requested' : 'approved',
        reason: input.reason,
        details: { action: Action[input.action], backend: Backend[input.backend], passwordSet: !!t.secret },
      });
      ids.push(id);
    }
    return ids;
  });
  deps.log.info(
    {
      requestId: request.id,
      nodes: operationIds.length,
      action: Action[input.action],
      needsApproval: input.needsApproval,
    },
    'change request created',
  );
  publish(deps, operationIds);
  let dispatchError: FleetpassError | undefined;
  if (!input.needsApproval) dispatchError = await dispatchOperations(deps, operationIds);
  return { request: ops.getRequest(request.id)!, operations: ops.operationsOf(request.id), dispatchError };
}

function pendingRequest(
  deps: DispatchDeps,
  id: string,
  allowed: ReadonlyArray<ChangeRequestRecord['state']>,
): ChangeRequestRecord {
  const cr = deps.store.operations.getRequest(id);
  if (!cr) throw changeRequestNotFound(id);
  if (!allowed.includes(cr.state))
    throw new FleetpassError('FP_REQUEST_NOT_PENDING', `the change request is ${cr.state.replace('_', ' ')}`);
  return cr;
}

/** A second person approves: every waiting operation is approved and dispatched to online nodes. */
export async function approveChangeRequest(
  deps: DispatchDeps,
  id: string,
  decision: DecisionInput,
): Promise<ChangeRequestResult> {
  const cr = pendingRequest(deps, id, ['pending_approval']);
  if (decision.actor === cr.requestedBy) throw new FleetpassError('FP_SELF_APPROVAL');
  const now = deps.clock.now();
  const ops = deps.store.operations;
  const approved = recordAudited(deps.store.db, () => {
    const ids = ops
      .operationsOf(id)
      .filter(
        (o) =>
          o.state === 'requested' &&
          ops.transition(o.id, 'requested', 'approved', decision.actor, decision.note ?? '', now),
      )
      .map((o) => o.id);
    ops.setRequestState(id, 'approved', now, { approvedBy: decision.actor, decisionNote: decision.note ?? '' });
    deps.audit.append({
      actor: decision.actor,
      action: 'request.approved',
      requestId: id,
      account: cr.account,
      outcome: 'approved',
      reason: decision.note ?? '',
      details: { operations: ids.length },
    });
    return ids;
  });
  deps.log.info({ requestId: id, approvedBy: decision.actor, operations: approved.length }, 'change request approved');
  publish(deps, approved);
  const dispatchError = await dispatchOperations(deps, approved);
  return { request: ops.getRequest(id)!, operations: ops.operationsOf(id), dispatchError };
}

/** Closes a request before dispatch: rejected (approver says no) or cancelled (anyone allowed). */
function close(
  deps: DispatchDeps,
  id: string,
  decision: DecisionInput,
  kind: 'rejected' | 'cancelled',
): ChangeRequestResult {
  const cr = pendingRequest(deps, id, kind === 'rejected' ? ['pending_approval'] : ['pending_approval', 'approved']);
  if (kind === 'rejected' && decision.actor === cr.requestedBy) throw new FleetpassError('FP_SELF_APPROVAL');
  const now = deps.clock.now();
  const ops = deps.store.operations;
  const closed = recordAudited(deps.store.db, () => {
    const ids: string[] = [];
    for (const o of ops.operationsOf(id)) {
      if (
        (o.state === 'requested' || o.state === 'approved') &&
        ops.transition(o.id, o.state, 'cancelled', decision.actor, decision.note ?? kind, now)
      ) {
        deps.vault.erase(o.id);
        ops.clearSecretFlag(o.id);
        ids.push(o.id);
      }
    }
    ops.setRequestState(
      id,
      kind,
      now,
      kind === 'rejected'
        ? { rejectedBy: decision.actor, decisionNote: decision.note ?? '' }
        : { decisionNote: decision.note ?? '' },
    );
    deps.audit.append({
      actor: decision.actor,
      action: kind === 'rejected' ? 'request.rejected' : 'request.cancelled',
      requestId: id,
      account: cr.account,
      outcome: kind,
      reason: decision.note ?? '',
      details: { operationsCancelled: ids.length },
    });
    return ids;
  });
  deps.log.info(
    { requestId: id, actor: decision.actor, operations: closed.length },
    kind === 'rejected' ? 'change request rejected' : 'change request cancelled',
  );
  publish(deps, closed);
  if (closed.length === 0) deps.events.emit({ type: 'request', request: ops.getRequest(id)! });
  return { request: ops.getRequest(id)!, operations: ops.operationsOf(id) };
}

/** An approver refuses a pending request; its operations are cancelled and their secrets erased. */
export function rejectChangeRequest(deps: DispatchDeps, id: string, decision: DecisionInput): ChangeRequestResult {
  return close(deps, id, decision, 'rejected');
}

/** Cancels every operation not yet dispatched; dispatched ones finish or expire on their own. */
export function cancelChangeRequest(deps: DispatchDeps, id: string, decision: DecisionInput): ChangeRequestResult {
  return close(deps, id, decision, 'cancelled');
}
