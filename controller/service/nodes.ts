/**
 * Nodes and their accounts: the inventory, one node's page (its accounts and open operations), one
 * account's history, admin labels, revocation, and the live fleet feed. Reads need 'fleet.read'; labels
 * and revocation need their own permission and a reason, and are audited with what changed.
 */
import { auditPageFor } from './audit-view';
import { nodeUnknown, FleetpassError } from '../../shared/errors';
import type { Backend } from '../../shared/gen/fleetpass/v1/common';
import { assertAccountName } from '../../shared/validation/account-name';
import { assertLabels } from '../../shared/validation/labels';
import type { AuditRecord } from '../audit';
import { isFinal, type ControllerEventListener } from '../dispatch';
import {
  changeRequestView,
  isEmptySelection,
  listAccountViews,
  listNodeViews,
  selectNodes,
  type AccountQuery,
  type AccountView,
  type NodeRecord,
  type NodeSelection,
  type NodeView,
  type OperationRecord,
  type ChangeRequestRecord,
} from '../store';
import type { AccountsRepo } from '../store/accounts-repo';
import type { Principal } from '../access/authenticate';
import type { ServiceContext } from './context';
import { requiredReason } from './rules';

export interface AccountListing extends AccountView {
  /** A change to this account needs a second person's approval. */
  privileged: boolean;
}

/** An open operation on a node, with the request it belongs to. */
export interface PendingOperation {
  operation: OperationRecord;
  request: ChangeRequestRecord;
}

export interface NodeDetail {
  node: NodeRecord;
  /** Empty for a revoked node. */
  accounts: AccountListing[];
  pending: PendingOperation[];
}

export interface AccountHistory {
  history: ReturnType<AccountsRepo['history']>;
  /** The newest audit records naming the node and account. */
  audit: AuditRecord[];
}

export function nodesService(ctx: ServiceContext) {
  const { store, rules, policy, dispatcher, sessions, clock, log } = ctx;

  function listings(filter: AccountQuery): AccountListing[] {
    return listAccountViews(store, filter).map((a) => ({
      ...a,
      privileged: policy.isPrivileged(a.account.state.backend, a.account.state.account, a.account.state),
    }));
  }

  return {
    /** Every node (revoked ones too) when the selection is empty. */
    listNodes(p: Principal, selection?: NodeSelection): NodeView[] {
      rules.authorize(p, 'fleet.read', 'listing nodes');
      if (isEmptySelection(selection)) return listNodeViews(store, { includeRevoked: true });
      const picked = new Set(selectNodes(store, selection!).map((n) => n.id));
      return listNodeViews(store, { includeRevoked: true }).filter((n) => picked.has(n.id));
    },
    listAccounts(p: Principal, filter: AccountQuery = {}): AccountListing[] {
      rules.authorize(p, 'fleet.read', 'listing accounts');
      return listings({ ...filter, selection: isEmptySelection(filter.selection) ? undefined : filter.selection });
    },
    getNode(p: Principal, id: string): NodeRecord | undefined {
      rules.authorize(p, 'fleet.read', 'reading a node', { nodeId: id });
      return store.nodes.get(id);
    },
    /** One node, its accounts and its open operations; FP_NODE_UNKNOWN when there is no such node. */
    nodeDetail(p: Principal, id: string): NodeDetail {
      rules.authorize(p, 'fleet.read', 'reading a node', { nodeId: id });
      const node = store.nodes.get(id);
      if (!node) throw nodeUnknown(id);
      const accounts = node.revoked ? [] : listings({ selection: { nodeIds: [id] } });
      const pending: PendingOperation[] = [];
      for (const r of store.operations.listRequests({ states: ['pending_approval', 'approved'], limit: 200 })) {
        const view = changeRequestView(store, r.id);
        for (const op of view.operations)
          if (op.nodeId === id && !isFinal(op.state)) pending.push({ operation: op, request: view.request });
      }
      return { node, accounts, pending };
    },
    /** An account's state history and the audit records about it (needs 'fleet.read' and 'audit.read'). */
    accountHistory(
      p: Principal,
      input: { nodeId: string; backend: Backend; account: string; limit?: number },
    ): AccountHistory {
      const account = assertAccountName(input.account);
      rules.authorize(p, 'fleet.read', 'reading account history', { nodeId: input.nodeId, account });
      rules.authorize(p, 'audit.read', 'reading account history', { nodeId: input.nodeId, account });
      const limit = input.limit ?? 100;
      return {
        history: store.accounts.history(input.nodeId, input.backend, account, limit),
        audit: auditPageFor(p, ctx.audit.query({ filter: { nodeId: input.nodeId, account }, descending: true, limit }))
          .records,
      };
    },
    /**
     * Replaces the labels an admin gives a node (the only ones selectors match; its enrollment carries them
     * from now on), audited with the old and new sets. FP_NODE_UNKNOWN for a node never seen or enrolled.
     */
    setNodeLabels(p: Principal, input: { nodeId: string; labels: Record<string, string>; reason: string }): NodeRecord {
      rules.authorize(p, 'nodes.label', 'labelling nodes', { nodeId: input.nodeId });
      const reason = requiredReason(input.reason);
      const clean = assertLabels(input.labels ?? {});
      const node = store.nodes.get(input.nodeId);
      if (!node) throw nodeUnknown(input.nodeId);
      ctx.audited((audit) => {
        store.nodes.setLabels(node.id, clean);
        audit.append({
          actor: p.name,
          action: 'node.labels_set',
          nodeId: node.id,
          outcome: 'ok',
          reason,
          details: { before: node.labels, after: clean },
        });
      });
      const updated = store.nodes.get(node.id)!;
      dispatcher.events.emit({ type: 'node', change: 'labels', node: updated });
      log.info({ nodeId: node.id, actor: p.name, labels: Object.keys(clean).length }, 'node labels set');
      return updated;
    },
    /**
     * Marks a node revoked, audits it and cuts its stream at once; it cannot connect again. In the same
     * transaction its open operations end (waiting ones cancelled, sent ones expired, sealed passwords
     * erased), so the node id enrolled again never receives them.
     */
    revokeNode(p: Principal, input: { nodeId: string; reason: string }): NodeRecord {
      rules.authorize(p, 'nodes.revoke', 'revoking a node', { nodeId: input.nodeId });
      const reason = requiredReason(input.reason);
      const node = store.nodes.get(input.nodeId);
      if (!node) throw nodeUnknown(input.nodeId);
      const by = { actor: p.name, reason };
      const now = clock.now();
      const closed = ctx.audited((audit) => {
        store.nodes.setRevoked(node.id, true);
        const ids = dispatcher.closeNodeOperations(node.id, by, now);
        audit.append({
          actor: p.name,
          action: 'node.revoked',
          nodeId: node.id,
          outcome: 'revoked',
          reason,
          details: { operationsClosed: ids.length },
        });
        return ids;
      });
      sessions.get(node.id)?.close('node revoked', new FleetpassError('FP_NODE_REVOKED'));
      dispatcher.publish(closed);
      const revoked = store.nodes.get(node.id)!;
      dispatcher.events.emit({ type: 'node', change: 'revoked', node: revoked });
      log.warn({ nodeId: node.id, actor: p.name, operationsClosed: closed.length }, 'node revoked');
      return revoked;
    },
    /** Checks that `p` may watch the fleet live (audited refusal); the transport then joins fleetFeed. */
    authorizeFleetWatch(p: Principal): void {
      rules.authorize(p, 'fleet.read', 'watching the fleet live');
    },
    /**
     * Every controller event, for a transport that fans one feed out to watchers it authorized with
     * authorizeFleetWatch (the console's live stream). Returns the unsubscribe function.
     */
    fleetFeed(listener: ControllerEventListener): () => void {
      return dispatcher.events.subscribe(listener);
    },
    /** What the feed's events need for display, without a principal (the watcher was authorized). */
    feedFacts: {
      lockedAccounts: (nodeId: string): number =>
        listAccountViews(store, { selection: { nodeIds: [nodeId] }, lockedOnly: true }).length,
      node: (nodeId: string): NodeRecord | undefined => store.nodes.get(nodeId),
      isPrivileged: policy.isPrivileged,
      requestCounts: (id: string) => store.operations.countsOf(id),
    },
  };
}
