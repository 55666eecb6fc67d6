/**
 * Node ids: the subject CN of a node's certificate and its key in the inventory. Lower-case DNS-like
 * labels, so a hostname usually is one already; the controller decides the id, never the CSR.
 */
import { FleetpassError } from '../../shared/errors';

const NODE_ID = /^[a-z0-9](?:[a-z0-9.-]{0,61}[a-z0-9])?$/;

/** Why `id` is not a valid node id, or undefined when it is. */
export function nodeIdProblem(id: string): string | undefined {
  if (id.length === 0) return 'the node id is empty';
  if (id.length > 63) return 'the node id is longer than 63 characters';
  if (!NODE_ID.test(id))
    return `the node id ${JSON.stringify(id.slice(0, 80))} may hold only lower-case letters, digits, "." and "-", and must start and end with a letter or digit`;
  return undefined;
}

/** Throws FP_NODE_ID_INVALID unless `id` is a valid node id. */
export function assertNodeId(id: string): string {
  const problem = nodeIdProblem(id);
  if (problem) throw new FleetpassError('FP_NODE_ID_INVALID', problem, { details: { nodeId: id.slice(0, 80) } });
  return id;
}

/**
 * The node id for a hostname the agent reports: lower-cased, other characters turned into "-", trimmed to
 * 63; throws FP_NODE_ID_INVALID when nothing usable is left (the admin then names the node in the token).
 */
export function nodeIdFromHostname(hostname: string): string {
  const id = hostname
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .slice(0, 63)
    .replace(/^[.-]+|[.-]+$/g, '');
  if (nodeIdProblem(id)) {
    throw new FleetpassError(
      'FP_NODE_ID_INVALID',
      `no node id can be made from the hostname ${JSON.stringify(hostname.slice(0, 80))}; create a token that names the node (--node-id)`,
    );
  }
  return id;
}
