/**
 * Reads over nodes and accounts that several callers share (the service layer, escrow, the demo): pick
 * nodes by a selector, nodes with their locked-account count, and accounts locked-first. Queries only; who
 * may read is the service layer's to decide.
 */
import { FleetpassError } from '../../shared/errors';
import type { Backend } from '../../shared/gen/fleetpass/v1/common';
import type { AccountStateRecord } from './accounts-repo';
import type { NodeFilter, NodeRecord } from './nodes-repo';
import type { Store } from './index';

/** A node selector: ids, labels, or all; optionally only where an account is locked. */
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

export interface AccountQuery {
  selection?: NodeSelection;
  account?: string;
  backend?: Backend;
  lockedOnly?: boolean;
}

/** True when the selection names no node at all (no ids, no labels, not all, not locked-only). */
export function isEmptySelection(sel: NodeSelection | undefined): boolean {
  return !sel || (!sel.all && !sel.nodeIds?.length && !Object.keys(sel.labels ?? {}).length && !sel.lockedOnly);
}

/** The nodes a selector picks; FP_INVALID_ARGUMENT when it picks by nothing. */
export function selectNodes(store: Store, sel: NodeSelection): NodeRecord[] {
  const hasIds = !!sel.nodeIds?.length;
  const hasLabels = !!sel.labels && Object.keys(sel.labels).length > 0;
  if (!hasIds && !hasLabels && !sel.all)
    throw new FleetpassError('FP_INVALID_ARGUMENT', 'choose nodes by id, by label, or all of them');
  let nodes = store.nodes.list({ ids: hasIds ? sel.nodeIds : undefined, labels: hasLabels ? sel.labels : undefined });
  if (sel.lockedOnly) {
    if (!sel.account) throw new FleetpassError('FP_INVALID_ARGUMENT', 'selecting locked nodes needs the account name');
    const locked = new Set(
      store.accounts
        .list({ account: sel.account, backend: sel.backend, lockedOnly: true, nodeIds: nodes.map((n) => n.id) })
        .map((a) => a.nodeId),
    );
    nodes = nodes.filter((n) => locked.has(n.id));
  }
  return nodes;
}

function lockedCounts(store: Store): Map<string, number> {
  const m = new Map<string, number>();
  for (const a of store.accounts.list({ lockedOnly: true })) m.set(a.nodeId, (m.get(a.nodeId) ?? 0) + 1);
  return m;
}

/** Nodes with how many of their accounts are locked. */
export function listNodeViews(store: Store, filter: NodeFilter = {}): NodeView[] {
  const locked = lockedCounts(store);
  return store.nodes.list(filter).map((n) => ({ ...n, lockedAccounts: locked.get(n.id) ?? 0 }));
}

/** Locked accounts first (permanent locks, then the latest-ending), then the rest by node and account. */
export function listAccountViews(store: Store, filter: AccountQuery = {}): AccountView[] {
  const nodes = filter.selection ? selectNodes(store, filter.selection) : store.nodes.list({});
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const rows = store.accounts.list({
    nodeIds: filter.selection ? [...byId.keys()] : undefined,
    account: filter.account,
    backend: filter.backend,
    lockedOnly: filter.lockedOnly,
  });
  const ends = (a: AccountStateRecord) =>
    a.state.lockPermanent || !a.state.lockEnds ? Infinity : a.state.lockEnds.getTime();
  return rows
    .filter((r) => byId.has(r.nodeId))
    .sort(
      (a, b) =>
        Number(b.state.locked) - Number(a.state.locked) ||
        (a.state.locked ? ends(b) - ends(a) : 0) ||
        a.nodeId.localeCompare(b.nodeId) ||
        a.state.account.localeCompare(b.state.account),
    )
    .map((account) => ({ node: byId.get(account.nodeId)!, account }));
}
