/**
 * The dispatch API: change requests and their operations from creation to a final state. The admin
 * layer calls create/approve/reject/cancel after its own role and policy checks; the agent server calls
 * deliverPending and handleResult; jobs call expireDue and retryApproved. Subscribe to `events` for
 * live progress.
 */
import type { DispatchDeps } from './context';
import {
  approveChangeRequest,
  cancelChangeRequest,
  createChangeRequest,
  rejectChangeRequest,
  type ChangeRequestResult,
  type CreateChangeRequestInput,
  type DecisionInput,
} from './change-requests';
import { deliverPending, dispatchOperations, retryApproved } from './delivery';
import { expireDue } from './expiry';
import { closeNodeOperations } from './node-revocation';
import { publish } from './progress';
import { handleResult } from './results';

export type { DispatchDeps, DispatchSettings, NodeChannel, NodeChannels } from './context';
export { nodeActor, CONTROLLER_ACTOR } from './context';
export type { ChangeTarget, ChangeRequestResult, CreateChangeRequestInput, DecisionInput } from './change-requests';
export type { ResultVerdict } from './results';
export { createEventBus, type ControllerEvent, type ControllerEventListener, type EventBus } from './events';
export { createSecretVault, loadOrCreateSecretKey, type SecretVault, type SecretKey } from './secret-vault';
export { LEGAL_TRANSITIONS, FINAL_STATES, canTransition, isFinal, stateForOutcome } from './state-machine';

export type Dispatcher = ReturnType<typeof createDispatcher>;

/** Binds the dispatch functions to their dependencies. */
export function createDispatcher(deps: DispatchDeps) {
  return {
    deps,
    events: deps.events,
    createChangeRequest: (input: CreateChangeRequestInput): Promise<ChangeRequestResult> =>
      createChangeRequest(deps, input),
    approveChangeRequest: (id: string, d: DecisionInput): Promise<ChangeRequestResult> =>
      approveChangeRequest(deps, id, d),
    rejectChangeRequest: (id: string, d: DecisionInput): ChangeRequestResult => rejectChangeRequest(deps, id, d),
    cancelChangeRequest: (id: string, d: DecisionInput): ChangeRequestResult => cancelChangeRequest(deps, id, d),
    dispatchOperations: (ids: readonly string[]) => dispatchOperations(deps, ids),
    deliverPending: (nodeId: string) => deliverPending(deps, nodeId),
    retryApproved: () => retryApproved(deps),
    handleResult: (nodeId: string, result: Parameters<typeof handleResult>[2]) => handleResult(deps, nodeId, result),
    expireDue: () => expireDue(deps),
    /** Inside the revocation's transaction: ends the node's open operations; publish the ids after commit. */
    closeNodeOperations: (nodeId: string, by: { actor: string; reason: string }, now: Date) =>
      closeNodeOperations(deps, nodeId, by, now),
    /** After a commit: one event per changed operation and its request. */
    publish: (operationIds: Iterable<string>) => publish(deps, operationIds),
  };
}
