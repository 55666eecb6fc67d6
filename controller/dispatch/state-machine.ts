/**
 * The operation state machine. An operation is requested, approved (by a person or because policy needs
 * no approval), dispatched to its node, and ends succeeded, failed, refused, expired or cancelled.
 * Cancelling is only possible before dispatch: once a node may be applying it, only its result or
 * expiry ends it. Final states never change.
 */
import { FleetpassError } from '../../shared/errors';
import { OperationOutcome } from '../../shared/gen/fleetpass/v1/common';
import type { ChangeRequestState, OperationState } from '../store';

export const LEGAL_TRANSITIONS: Readonly<Record<OperationState, readonly OperationState[]>> = {
  requested: ['approved', 'cancelled', 'expired'],
  approved: ['dispatched', 'cancelled', 'expired'],
  dispatched: ['succeeded', 'failed', 'refused', 'expired'],
  succeeded: [],
  failed: [],
  refused: [],
  expired: [],
  cancelled: [],
};

export const FINAL_STATES: ReadonlySet<OperationState> = new Set([
  'succeeded',
  'failed',
  'refused',
  'expired',
  'cancelled',
]);

export function isFinal(state: OperationState): boolean {
  return FINAL_STATES.has(state);
}

export function canTransition(from: OperationState, to: OperationState): boolean {
  return LEGAL_TRANSITIONS[from].includes(to);
}

/** Throws FP_INTERNAL for an illegal transition: a bug, never user input. */
export function assertTransition(from: OperationState, to: OperationState): void {
  if (!canTransition(from, to))
    throw new FleetpassError('FP_INTERNAL', `illegal operation transition ${from} -> ${to}`);
}

/** The final state an agent's outcome leads to. */
export function stateForOutcome(outcome: OperationOutcome): OperationState {
  switch (outcome) {
    case OperationOutcome.OPERATION_OUTCOME_SUCCEEDED:
      return 'succeeded';
    case OperationOutcome.OPERATION_OUTCOME_REFUSED:
      return 'refused';
    case OperationOutcome.OPERATION_OUTCOME_EXPIRED:
      return 'expired';
    default:
      return 'failed';
  }
}

/** A request whose every operation is final is done, unless a person already closed it. */
export function requestStateAfterUpdate(current: ChangeRequestState, unfinished: number): ChangeRequestState {
  if (unfinished > 0) return current;
  return current === 'rejected' || current === 'cancelled' ? current : 'done';
}
