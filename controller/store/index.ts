/** The controller's storage: one SQLite file, small repositories per table group. */
import type { Db } from './database';
import { createAccountsRepo, type AccountsRepo } from './accounts-repo';
import { createNodesRepo, type NodesRepo } from './nodes-repo';
import { createOperationsRepo, type OperationsRepo } from './operations-repo';

export { openDatabase, migrate, schemaVersion, type Db, type OpenDatabaseOptions } from './database';
export { MIGRATIONS, LATEST_SCHEMA_VERSION, type Migration } from './migrations';
export type { NodeRecord, NodeFilter, NodeHelloFacts, NodesRepo } from './nodes-repo';
export type { AccountStateRecord, AccountChange, AccountFilter, AccountsRepo } from './accounts-repo';
export {
  OPERATION_STATES,
  CHANGE_REQUEST_STATES,
  type OperationState,
  type ChangeRequestState,
  type ChangeRequestRecord,
  type OperationRecord,
  type TransitionRecord,
  type OperationResultFields,
  type OperationsRepo,
} from './operations-repo';

export interface Store {
  db: Db;
  nodes: NodesRepo;
  accounts: AccountsRepo;
  operations: OperationsRepo;
}

/** The repositories over an opened, migrated database. */
export function createStore(db: Db): Store {
  return { db, nodes: createNodesRepo(db), accounts: createAccountsRepo(db), operations: createOperationsRepo(db) };
}

export {
  selectNodes,
  listNodeViews,
  listAccountViews,
  isEmptySelection,
  type NodeSelection,
  type NodeView,
  type AccountView,
  type AccountQuery,
} from './node-queries';
export { changeRequestView, type ChangeRequestView } from './change-request-view';
