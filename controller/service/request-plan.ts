/**
 * Planning a change request for an operator: validate the ask, apply the account policy, pick the nodes
 * (leaving out, with a warning, revoked nodes and nodes that do not run the backend), decide whether a
 * second person must approve (privileged accounts), and settle each node's new password (generated per
 * node to that backend's rules, or the supplied one checked against them). A dry run stops after the plan.
 * Roles and the audit of refusals are the service's (requests.ts); this module only decides and explains.
 */
import { FleetpassError } from '../../shared/errors';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import type { ChangeTarget } from '../dispatch';
import { assertRequestShape, MAX_REASON_LENGTH } from '../dispatch/request-rules';
import { assertPasswordAcceptable, generatePassword } from '../access/passwords';
import { hasUidZero, type Policy } from '../access/policy';
import { listAccountViews, selectNodes, type NodeRecord, type NodeSelection, type Store } from '../store';

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
  /** Confirms that one provided password goes to every node (refused otherwise when there is more than one). */
  samePasswordOnAllNodes?: boolean;
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

/** What operators may ask for (a refresh is the controller's own). */
const OPERATOR_ACTIONS: ReadonlySet<Action> = new Set([Action.ACTION_UNLOCK, Action.ACTION_RESET_PASSWORD]);

export { MAX_REASON_LENGTH };

/**
 * Checks the ask early (no policy yet) with dispatch's own rules, so the words match whichever layer
 * refuses; then what only an operator's ask has: where the password comes from. Throws a FleetpassError.
 */
export function validateRequest(input: RequestOperationsInput): void {
  assertRequestShape(input, OPERATOR_ACTIONS);
  if (input.action === Action.ACTION_RESET_PASSWORD && !input.password) {
    throw new FleetpassError('FP_SECRET_MISSING', 'a password reset needs --generate or --password-stdin');
  }
  if (input.action !== Action.ACTION_RESET_PASSWORD && input.password)
    throw new FleetpassError('FP_INVALID_ARGUMENT', 'only a password reset takes a password');
}

function backendWord(b: Backend): string {
  return Backend[b].replace('BACKEND_', '').toLowerCase();
}

/** At most this many account names per node in a refusal: enough to spot the typo. */
const NAMES_SHOWN = 12;

/**
 * Nodes that reported their accounts of this backend (a state report, not just operation results), and
 * not this one, would only refuse it: they are left out (with a warning), and when no node is left the
 * request is refused up front with FP_ACCOUNT_UNKNOWN naming the accounts each node has. Nodes that
 * never reported keep the request.
 */
function leaveOutNodesWithoutAccount(
  store: Store,
  nodes: NodeRecord[],
  backend: Backend,
  account: string,
  warnings: string[],
): NodeRecord[] {
  const reporters = store.accounts.reportedBy(
    nodes.map((n) => n.id),
    backend,
  );
  const reported = new Map<string, string[]>();
  for (const n of nodes) if (reporters.has(n.id)) reported.set(n.id, []);
  for (const a of store.accounts.list({ nodeIds: [...reporters], backend })) {
    const names = reported.get(a.nodeId) ?? [];
    names.push(a.state.account);
    reported.set(a.nodeId, names);
  }
  const lacks = (n: NodeRecord) => {
    const names = reported.get(n.id);
    return names !== undefined && !names.includes(account);
  };
  const has = (n: NodeRecord) => {
    const names = [...(reported.get(n.id) ?? [])].sort();
    const shown = names.length ? names.slice(0, NAMES_SHOWN).join(', ') : 'no accounts';
    return `${n.id} has ${shown}${names.length > NAMES_SHOWN ? `, and ${names.length - NAMES_SHOWN} more` : ''}`;
  };
  const without = nodes.filter(lacks);
  if (without.length === 0) return nodes;
  const word = backendWord(backend);
  if (without.length === nodes.length) {
    throw new FleetpassError(
      'FP_ACCOUNT_UNKNOWN',
      `no chosen node reports a ${word} account "${account}" (${without.slice(0, 5).map(has).join('; ')}${without.length > 5 ? `; and ${without.length - 5} more nodes` : ''}); nothing was sent`,
      { details: { account, nodes: without.length } },
    );
  }
  for (const n of without)
    warnings.push(`${n.id}: reports no ${word} account "${account}" (${has(n).replace(`${n.id} `, '')}), left out`);
  return nodes.filter((n) => !lacks(n));
}

/** Picks the nodes and settles approvals and passwords; changes nothing. */
export function planOperations(store: Store, policy: Policy, input: RequestOperationsInput): OperationsPlan {
  const matched = selectNodes(store, { ...input.selection, account: input.account, backend: input.backend });
  const warnings: string[] = [];
  const nodes: NodeRecord[] = [];
  const matchedIds = new Set(matched.map((n) => n.id));
  for (const id of input.selection.nodeIds ?? []) {
    if (!matchedIds.has(id))
      warnings.push(
        `${id}: not matched (unknown, revoked${input.selection.lockedOnly ? ', or the account is not locked there' : ''}), left out`,
      );
  }
  for (const n of matched) {
    if (n.revoked) warnings.push(`${n.id}: revoked, left out`);
    else if (n.backends.length > 0 && !n.backends.includes(input.backend))
      warnings.push(`${n.id}: does not run the ${backendWord(input.backend)} backend, left out`);
    else nodes.push(n);
  }
  if (nodes.length === 0) {
    throw new FleetpassError(
      'FP_NO_NODES_MATCHED',
      warnings.length ? `no node can take this request (${warnings.join('; ')})` : undefined,
    );
  }
  const withAccount = leaveOutNodesWithoutAccount(store, nodes, input.backend, input.account, warnings);
  nodes.splice(0, nodes.length, ...withAccount);
  for (const n of nodes) {
    const local = n.policy.find((p) => p.backend === input.backend && p.account === input.account);
    if (n.policy.length > 0 && !local?.actions.includes(input.action))
      warnings.push(`${n.id}: the node's own policy does not allow this; its agent will refuse it`);
    if (!n.online) warnings.push(`${n.id}: offline; the operation waits for it until it expires`);
  }
  // Privileged by name, or because some chosen node reports this account as uid 0 (a root by another name).
  const reported = listAccountViews(store, {
    selection: { nodeIds: nodes.map((n) => n.id) },
    account: input.account,
    backend: input.backend,
  });
  const rootOn = reported.filter((a) => hasUidZero(a.account.state)).map((a) => a.node.id);
  const byName = policy.isPrivileged(input.backend, input.account);
  if (!byName)
    for (const id of rootOn)
      warnings.push(`${id}: ${input.account} has uid 0 there, so the request needs a second person's approval`);
  const privileged = byName || rootOn.length > 0;
  const generatedPasswords: OperationsPlan['generatedPasswords'] = [];
  let targets: ChangeTarget[];
  if (input.action !== Action.ACTION_RESET_PASSWORD) {
    targets = nodes.map((n) => ({ nodeId: n.id }));
  } else if (input.password!.source === 'provided') {
    const password = input.password!.password;
    assertPasswordAcceptable(password, input.backend, policy.passwordRules(input.backend, input.account));
    // One shared password on many nodes: whoever learns it on one knows them all. Generated ones differ per node.
    if (nodes.length > 1 && !input.samePasswordOnAllNodes) {
      throw new FleetpassError(
        'FP_SAME_PASSWORD_UNCONFIRMED',
        `the password would be the same on ${nodes.length} nodes; use --generate for one per node, or confirm with --same-password`,
      );
    }
    targets = nodes.map((n) => ({ nodeId: n.id, secret: password }));
  } else if (input.dryRun) {
    targets = nodes.map((n) => ({ nodeId: n.id }));
  } else {
    const rules = policy.passwordRules(input.backend, input.account);
    targets = nodes.map((n) => {
      const password = generatePassword(input.backend, rules);
      generatedPasswords.push({ nodeId: n.id, password });
      return { nodeId: n.id, secret: password };
    });
  }
  return { nodes, needsApproval: privileged, privileged, warnings, targets, generatedPasswords };
}
