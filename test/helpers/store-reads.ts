/**
 * TEST ONLY: what a test reads back from a running controller's data file to check what happened: nodes,
 * accounts, requests, operations and the audit log, straight from the store (no principal, no role check;
 * the service layer's own reads are tested through the admin API and the console), and dispatch's calls
 * for tests that drive requests without an operator.
 */
import type { ControllerContext } from '../../controller/controller';
import type { WatchUpdate } from '../../controller/service';
import { principal } from './factories';
import type { Backend } from '../../shared/gen/fleetpass/v1/common';
import { verifyAudit, type AuditFilter, type AuditQuery } from '../../controller/audit';
import {
  changeRequestView,
  listAccountViews,
  listNodeViews,
  selectNodes,
  type AccountQuery,
  type ChangeRequestState,
  type NodeFilter,
  type NodeSelection,
} from '../../controller/store';

export function storeReads(ctx: ControllerContext) {
  const { store, audit } = ctx;
  return {
    getNode: (id: string) => store.nodes.get(id),
    listNodes: (filter: NodeFilter = {}) => listNodeViews(store, filter),
    selectNodes: (sel: NodeSelection) => selectNodes(store, sel),
    listAccounts: (filter: AccountQuery = {}) => listAccountViews(store, filter),
    accountHistory: (nodeId: string, backend: Backend, account: string, limit?: number) =>
      store.accounts.history(nodeId, backend, account, limit),
    getChangeRequest: (id: string) => changeRequestView(store, id),
    listChangeRequests: (filter: { states?: readonly ChangeRequestState[]; limit?: number } = {}) =>
      store.operations.listRequests(filter),
    getOperation: (id: string) => store.operations.getOperation(id),
    operationTransitions: (id: string) => store.operations.transitionsOf(id),
    queryAudit: (q: AuditQuery = {}) => audit.query(q),
    iterateAudit: (filter?: AuditFilter) => audit.iterate(filter),
    verifyAudit: () => verifyAudit(store.db, { checkpointFile: ctx.paths.checkpointFile }),
    /** Dispatch's own calls (no role check: the service layer's are tested through the admin API). */
    createChangeRequest: ctx.dispatcher.createChangeRequest,
    approveChangeRequest: ctx.dispatcher.approveChangeRequest,
    rejectChangeRequest: ctx.dispatcher.rejectChangeRequest,
    cancelChangeRequest: ctx.dispatcher.cancelChangeRequest,
    /** The service layer's watch, as an admin on the controller host. */
    watchChangeRequest: (id: string, onUpdate: (u: WatchUpdate) => void) =>
      ctx.service.watchChangeRequest(principal(), id, onUpdate),
  };
}
