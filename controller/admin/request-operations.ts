/**
 * Planning a change request for an operator: validate the ask, apply the account policy, pick the nodes
 * (leaving out, with a warning, revoked nodes and nodes that do not run the backend), decide whether a
 * second person must approve (privileged accounts), and settle each node's new password (generated per
 * node to that backend's rules, or the supplied one checked against them). A dry run stops after the plan.
 * Roles and the audit of refusals are admin-service's; this module only decides and explains.
 */
import { FleetpassError } from '../../shared/errors';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { assertAccountName } from '../../shared/validation/account-name';
import type { ChangeTarget } from '../dispatch';
import type { ControllerService, NodeSelection } from '../service';
import type { NodeRecord } from '../store';
import { assertPasswordAcceptable, generatePassword } from './passwords';
import type { Policy } from './policy';

export type PasswordChoice = { source: 'generate' } | { source: 'provided'; password: string };

export interface RequestOperationsInput {
  selection: Omit<NodeSelection, 'account' | 'backend'>;
  backend: Backend;
  account: string;
  /** ACTION_UNLOCK or ACTION_RESET_PASSWORD. */
  action: Action;
  /** Required for a reset, refused for an unlock. */
  password?: PasswordChoice;
  /** Ticket number or free text; required. */
  reason: string;
  dryRun?: boolean;
  /** How long operations wait for offline nodes; 0 or undefined: the controller default. */
  ttlSeconds?: number;
  /** LRM: the new password must be changed at the next login. */
  temporary?: boolean;
}

export interface OperationsPlan {
  nodes: NodeRecord[];
  needsApproval: boolean;
  privileged: boolean;
  warnings: string[];
  targets: ChangeTarget[];
  /** One per node with a generated password: shown once to the requester, never stored in plaintext. */
  generatedPasswords: Array<{ nodeId: string; password: string }>;
}

const ACTIONS = new Set([Action.ACTION_UNLOCK, Action.ACTION_RESET_PASSWORD]);
const BACKENDS = new Set([Backend.BACKEND_LINUX, Backend.BACKEND_SSR, Backend.BACKEND_LRM]);
export const MAX_REASON_LENGTH = 500;
const MAX_TTL_SECONDS = 7 * 86_400;

/** Checks the shape of the ask (no policy yet); throws a FleetpassError naming the problem. */
export function validateRequest(input: RequestOperationsInput): void {
  const reason = input.reason?.trim() ?? '';
  if (!reason) throw new FleetpassError('FP_REASON_REQUIRED');
  if (reason.length > MAX_REASON_LENGTH) throw new FleetpassError('FP_INVALID_ARGUMENT', `the reason is longer than ${MAX_REASON_LENGTH} characters`);
  if (!BACKENDS.has(input.backend)) throw new FleetpassError('FP_INVALID_ARGUMENT', 'choose the backend: linux, ssr or lrm');
  if (!ACTIONS.has(input.action)) throw new FleetpassError('FP_INVALID_ARGUMENT', 'the action must be unlock or reset-password');
  assertAccountName(input.account);
  const ttl = input.ttlSeconds ?? 0;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS) throw new FleetpassError('FP_INVALID_ARGUMENT', `the wait for offline nodes must be 0 to ${MAX_TTL_SECONDS} seconds`);
  if (input.action === Action.ACTION_RESET_PASSWORD && !input.password) {
    throw new FleetpassError('FP_SECRET_MISSING', 'a password reset needs --generate or --password-stdin');
  }
  if (input.action !== Action.ACTION_RESET_PASSWORD && input.password) throw new FleetpassError('FP_INVALID_ARGUMENT', 'only a password reset takes a password');
  if (input.temporary && input.backend !== Backend.BACKEND_LRM) throw new FleetpassError('FP_INVALID_ARGUMENT', 'only Local Run Manager accounts take a temporary password');
}

function backendWord(b: Backend): string {
  return Backend[b].replace('BACKEND_', '').toLowerCase();
}

/** Picks the nodes and settles approvals and passwords; changes nothing. */
export function planOperations(service: ControllerService, policy: Policy, input: RequestOperationsInput): OperationsPlan {
  const matched = service.selectNodes({ ...input.selection, account: input.account, backend: input.backend });
  const warnings: string[] = [];
  const nodes: NodeRecord[] = [];
  const matchedIds = new Set(matched.map((n) => n.id));
  for (const id of input.selection.nodeIds ?? []) {
    if (!matchedIds.has(id)) warnings.push(`${id}: not matched (unknown, revoked${input.selection.lockedOnly ? ', or the account is not locked there' : ''}), left out`);
  }
  for (const n of matched) {
    if (n.revoked) warnings.push(`${n.id}: revoked, left out`);
    else if (n.backends.length > 0 && !n.backends.includes(input.backend)) warnings.push(`${n.id}: does not run the ${backendWord(input.backend)} backend, left out`);
    else nodes.push(n);
  }
  if (nodes.length === 0) {
    throw new FleetpassError('FP_NO_NODES_MATCHED', warnings.length ? `no node can take this request (${warnings.join('; ')})` : undefined);
  }
  for (const n of nodes) {
    const local = n.policy.find((p) => p.backend === input.backend && p.account === input.account);
    if (n.policy.length > 0 && !local?.actions.includes(input.action)) warnings.push(`${n.id}: the node's own policy does not allow this; its agent will refuse it`);
    if (!n.online) warnings.push(`${n.id}: offline; the operation waits for it until it expires`);
  }
  const privileged = policy.isPrivileged(input.backend, input.account);
  const generatedPasswords: OperationsPlan['generatedPasswords'] = [];
  let targets: ChangeTarget[];
  if (input.action !== Action.ACTION_RESET_PASSWORD) {
    targets = nodes.map((n) => ({ nodeId: n.id }));
  } else if (input.password!.source === 'provided') {
    const password = input.password!.password;
    assertPasswordAcceptable(password, input.backend, policy.passwordRules(input.backend));
    targets = nodes.map((n) => ({ nodeId: n.id, secret: password }));
  } else if (input.dryRun) {
    targets = nodes.map((n) => ({ nodeId: n.id }));
  } else {
    const rules = policy.passwordRules(input.backend);
    targets = nodes.map((n) => {
      const password = generatePassword(input.backend, rules);
      generatedPasswords.push({ nodeId: n.id, password });
      return { nodeId: n.id, secret: password };
    });
  }
  return { nodes, needsApproval: privileged, privileged, warnings, targets, generatedPasswords };
}
