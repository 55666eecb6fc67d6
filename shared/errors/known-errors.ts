/** Errors several modules raise about the same thing, built once so the sentence is the same everywhere. */
import { FleetpassError } from './fleetpass-error';

/** Quoted and cut to 80 characters: an id from a caller is shown, never trusted to be short. */
const shown = (id: unknown): string => JSON.stringify(String(id).slice(0, 80));

/** FP_NODE_UNKNOWN: no node with this id is enrolled. */
export function nodeUnknown(nodeId: unknown): FleetpassError {
  return new FleetpassError('FP_NODE_UNKNOWN', `no node with id ${shown(nodeId)} is enrolled`);
}

/** FP_NOT_FOUND for a change request id. */
export function changeRequestNotFound(id: unknown): FleetpassError {
  return new FleetpassError('FP_NOT_FOUND', `no change request with id ${shown(id)}`);
}
