/**
 * The controller's service layer: the one set of functions the admin gRPC service, the CLI (through
 * it) and the web console call. It adds reads (inventory, accounts, requests, audit) and watching to the
 * dispatch API. Roles, policy and approvals are decided by the caller (issue 6) before it calls in;
 * every change made here is audited, and a refusal the caller decides can be audited with `audit()`.
 */
import { FleetpassError } from '../../shared/errors';
import type { Clock } from '../../shared/clock';
import type { Backend } from '../../shared/gen/fleetpass/v1/common';
import type { Logger } from '../../shared/logger';
import { assertLabels } from '../../shared/validation/labels';
import {
  recordAudited, verifyAudit, writeCheckpoint, type AuditEntry, type AuditFilter, type AuditLog, type AuditPage, type AuditQuery,
  type AuditRecord, type Checkpoint, type VerifyResult,
} from '../audit';
import type { ChangeRequestResult, ControllerEvent, ControllerEventListener, CreateChangeRequestInput, DecisionInput, Dispatcher } from '../dispatch';
import { isFinal } from '../dispatch';
import type { SessionRegistry } from '../server/node-session';
import type {
  AccountStateRecord, ChangeRequestRecord, ChangeRequestState, NodeFilter, NodeRecord, OperationRecord, OperationState, Store,
  TransitionRecord,
} from '../store';

export interface ControllerServiceDeps {
  store: Store;
  audit: AuditLog;
  dispatcher: Dispatcher;
  sessions: SessionRegistry;
  clock: Clock;
  log: Logger;
  /** <stateDir>/audit-checkpoints.log */
  checkpointFile: string;
}

/** A node selector as the admin API has it. */
export interface NodeSelection {
  nodeIds?: readonly string[];
  labels?: Record<string, string>;
  /** Every unrevoked node; needed when neither ids nor labels are given. */
  all?: boolean;
  /** Only nodes where `account` (on `backend`, if given) is currently locked. */
  lockedOnly?: boolean;
  account?: string;
  backend?: Backend;
}

export interface NodeView extends NodeRecord {
  lockedAccounts: number;
}

export interface AccountView {
  node: NodeRecord;
  account: AccountStateRecord;
}

export interface ChangeRequestView {
  request: ChangeRequestRecord;
  operations: OperationRecord[];
  counts: Partial<Record<OperationState, number>>;
}

export interface WatchUpdate {
  request: ChangeRequestRecord;
  counts: Partial<Record<OperationState, number>>;
  /** The operation that changed; undefined on the first update. */
  operation?: OperationRecord;
  /** True on the last update: every operation is final (or the request was closed with none open). */
  done: boolean;
}

const CLOSED: ReadonlySet<ChangeRequestState> = new Set(['done', 'rejected', 'cancelled']);

export type ControllerService = ReturnType<typeof createControllerService>;

/** Builds the service over the controller's parts. */
export function createControllerService(deps: ControllerServiceDeps) {
  const { store, audit, dispatcher, sessions, clock, log } = deps;

  function lockedCounts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const a of store.accounts.list({ lockedOnly: true })) m.set(a.nodeId, (m.get(a.nodeId) ?? 0) + 1);
    return m;
  }

  function selectNodes(sel: NodeSelection): NodeRecord[] {
    const hasIds = !!sel.nodeIds?.length;
    const hasLabels = !!sel.labels && Object.keys(sel.labels).length > 0;
    if (!hasIds && !hasLabels && !sel.all) throw new FleetpassError('FP_INVALID_ARGUMENT', 'choose nodes by id, by label, or all of them');
    let nodes = store.nodes.list({ ids: hasIds ? sel.nodeIds : undefined, labels: hasLabels ? sel.labels : undefined });
    if (sel.lockedOnly) {
      if (!sel.account) throw new FleetpassError('FP_INVALID_ARGUMENT', 'selecting locked nodes needs the account name');
      const locked = new Set(store.accounts.list({ account: sel.account, backend: sel.backend, lockedOnly: true, nodeIds: nodes.map((n) => n.id) }).map((a) => a.nodeId));
      nodes = nodes.filter((n) => locked.has(n.id));
    }
    return nodes;
  }

  function getChangeRequest(id: string): ChangeRequestView {
    const request = store.operations.getRequest(id);
    if (!request) throw new FleetpassError('FP_NOT_FOUND', `no change request with id ${JSON.stringify(id.slice(0, 80))}`);
    return { request, operations: store.operations.operationsOf(id), counts: store.operations.countsOf(id) };
  }

  return {
    // --- inventory ---
    getNode: (id: string): NodeRecord | undefined => store.nodes.get(id),
    listNodes(filter: NodeFilter = {}): NodeView[] {
      const locked = lockedCounts();
      return store.nodes.list(filter).map((n) => ({ ...n, lockedAccounts: locked.get(n.id) ?? 0 }));
    },
    selectNodes,
    /** Locked accounts first (permanent locks, then the latest-ending), then the rest by node and account. */
    listAccounts(filter: { selection?: NodeSelection; account?: string; backend?: Backend; lockedOnly?: boolean } = {}): AccountView[] {
      const nodes = filter.selection ? selectNodes(filter.selection) : store.nodes.list({});
      const byId = new Map(nodes.map((n) => [n.id, n]));
      const rows = store.accounts.list({ nodeIds: filter.selection ? [...byId.keys()] : undefined, account: filter.account, backend: filter.backend, lockedOnly: filter.lockedOnly });
      const ends = (a: AccountStateRecord) => (a.state.lockPermanent || !a.state.lockEnds ? Infinity : a.state.lockEnds.getTime());
      return rows
        .filter((r) => byId.has(r.nodeId))
        .sort((a, b) => Number(b.state.locked) - Number(a.state.locked) || (a.state.locked ? ends(b) - ends(a) : 0) || a.nodeId.localeCompare(b.nodeId) || a.state.account.localeCompare(b.state.account))
        .map((account) => ({ node: byId.get(account.nodeId)!, account }));
    },
    accountHistory: (nodeId: string, backend: Backend, account: string, limit?: number) => store.accounts.history(nodeId, backend, account, limit),
    onlineNodeIds: (): string[] => sessions.nodeIds(),
    /**
     * Replaces the labels an admin gives a node (the only ones selectors match; its enrollment carries them
     * from now on), audited with the old and new sets. FP_NODE_UNKNOWN for a node never seen or enrolled.
     */
    setNodeLabels(nodeId: string, labels: Record<string, string>, by: { actor: string; reason: string }): NodeRecord {
      const clean = assertLabels(labels);
      const node = store.nodes.get(nodeId);
      if (!node) throw new FleetpassError('FP_NODE_UNKNOWN', `no node with id ${JSON.stringify(String(nodeId).slice(0, 80))} is known`);
      recordAudited(store.db, () => {
        store.nodes.setLabels(nodeId, clean);
        audit.append({ actor: by.actor, action: 'node.labels_set', nodeId, outcome: 'ok', reason: by.reason, details: { before: node.labels, after: clean } });
      });
      const updated = store.nodes.get(nodeId)!;
      dispatcher.events.emit({ type: 'node', change: 'labels', node: updated });
      log.info({ nodeId, actor: by.actor, labels: Object.keys(clean).length }, 'node labels set');
      return updated;
    },
    /**
     * Marks a node revoked, audits it and cuts its stream at once; it cannot connect again. In the same
     * transaction its open operations end (waiting ones cancelled, sent ones expired, sealed passwords
     * erased), so the node id enrolled again never receives them.
     */
    revokeNode(nodeId: string, by: { actor: string; reason: string }): NodeRecord {
      const node = store.nodes.get(nodeId);
      if (!node) throw new FleetpassError('FP_NODE_UNKNOWN', `no node with id ${JSON.stringify(nodeId.slice(0, 80))} is enrolled`);
      const now = clock.now();
      const closed = recordAudited(store.db, () => {
        store.nodes.setRevoked(nodeId, true);
        const ids = dispatcher.closeNodeOperations(nodeId, by, now);
        audit.append({ actor: by.actor, action: 'node.revoked', nodeId, outcome: 'revoked', reason: by.reason, details: { operationsClosed: ids.length } });
        return ids;
      });
      sessions.get(nodeId)?.close('node revoked', new FleetpassError('FP_NODE_REVOKED'));
      dispatcher.publish(closed);
      const revoked = store.nodes.get(nodeId)!;
      dispatcher.events.emit({ type: 'node', change: 'revoked', node: revoked });
      log.warn({ nodeId, actor: by.actor, operationsClosed: closed.length }, 'node revoked');
      return revoked;
    },

    // --- change requests (the caller has checked roles and policy) ---
    createChangeRequest: (input: CreateChangeRequestInput): Promise<ChangeRequestResult> => dispatcher.createChangeRequest(input),
    approveChangeRequest: (id: string, d: DecisionInput): Promise<ChangeRequestResult> => dispatcher.approveChangeRequest(id, d),
    rejectChangeRequest: (id: string, d: DecisionInput): ChangeRequestResult => dispatcher.rejectChangeRequest(id, d),
    cancelChangeRequest: (id: string, d: DecisionInput): ChangeRequestResult => dispatcher.cancelChangeRequest(id, d),
    getChangeRequest,
    listChangeRequests: (filter: { states?: readonly ChangeRequestState[]; limit?: number } = {}): ChangeRequestRecord[] => store.operations.listRequests(filter),
    getOperation: (id: string): OperationRecord | undefined => store.operations.getOperation(id),
    operationTransitions: (id: string): TransitionRecord[] => store.operations.transitionsOf(id),

    /**
     * Streams a change request: a snapshot first, then one update per operation change, and `done`
     * once nothing is left open. Returns the unsubscribe function (call it when the client goes away).
     */
    watchChangeRequest(id: string, onUpdate: (u: WatchUpdate) => void): () => void {
      const first = getChangeRequest(id);
      const firstDone = first.operations.every((o) => isFinal(o.state));
      onUpdate({ request: first.request, counts: first.counts, done: firstDone });
      if (firstDone) return () => undefined;
      let finished = false;
      let unsubscribe: () => void = () => undefined;
      const listener = (e: ControllerEvent) => {
        if (finished) return;
        const mine = (e.type === 'operation' && e.operation.requestId === id) || (e.type === 'request' && e.request.id === id && CLOSED.has(e.request.state));
        if (!mine) return;
        const done = store.operations.unfinishedCount(id) === 0;
        if (e.type === 'request' && !done) return;
        finished = done;
        onUpdate({ request: store.operations.getRequest(id)!, counts: store.operations.countsOf(id), operation: e.type === 'operation' ? e.operation : undefined, done });
        if (done) unsubscribe();
      };
      unsubscribe = dispatcher.events.subscribe(listener);
      return () => unsubscribe();
    },
    /** Every controller event (operations, requests, nodes, accounts); returns the unsubscribe function. */
    subscribe: (listener: ControllerEventListener): (() => void) => dispatcher.events.subscribe(listener),

    // --- audit ---
    queryAudit: (q: AuditQuery = {}): AuditPage => audit.query(q),
    iterateAudit: (filter?: AuditFilter): IterableIterator<AuditRecord> => audit.iterate(filter),
    verifyAudit: (): VerifyResult => verifyAudit(store.db, { checkpointFile: deps.checkpointFile }),
    checkpointAudit: (actor = 'controller'): Checkpoint => writeCheckpoint(store.db, audit, deps.checkpointFile, actor),
    /** Records something the caller decided (e.g. a refused request) in its own transaction; fails closed. */
    audit: (entry: AuditEntry): AuditRecord => recordAudited(store.db, () => audit.append(entry)),
    /** Runs `fn` and its audit records in one transaction (FP_AUDIT_WRITE_FAILED if it cannot commit). */
    audited: <T>(fn: (a: AuditLog) => T): T => recordAudited(store.db, () => fn(audit)),
    now: (): Date => clock.now(),
  };
}
