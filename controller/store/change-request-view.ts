/** A change request with its operations and per-state counts: the read every caller of a request wants. */
import { changeRequestNotFound } from '../../shared/errors';
import type { ChangeRequestRecord, OperationRecord, OperationState } from './operations-repo';
import type { Store } from './index';

export interface ChangeRequestView {
  request: ChangeRequestRecord;
  operations: OperationRecord[];
  counts: Partial<Record<OperationState, number>>;
}

/** The request `id` with its operations; FP_NOT_FOUND when there is none. */
export function changeRequestView(store: Store, id: string): ChangeRequestView {
  const request = store.operations.getRequest(id);
  if (!request) throw changeRequestNotFound(id);
  return { request, operations: store.operations.operationsOf(id), counts: store.operations.countsOf(id) };
}
