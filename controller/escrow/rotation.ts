/**
 * Rotation: a pass finds accounts whose rotation is due (their class's window slot, a post-use or asked-
 * for demand, not inside a back-off) and asks for ordinary audited resets with a generated password per
 * node, by "escrow:rotation", no approval, `requireIdle` (a busy instrument's agent refuses). Nodes that
 * are offline or busy (by their heartbeats) are left for a later pass; one that comes back online gets a
 * pass of its own at once. Passes never overlap. Accounts of a scheduled class are tracked from the first
 * pass that sees them in the inventory, so a fleet's first rotation falls in the first window after that.
 */
import { FleetpassError, asFleetpassError } from '../../shared/errors';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { assertAccountName } from '../../shared/validation/account-name';
import type { Principal } from '../access/authenticate';
import { recordRefusal } from '../access/refusal';
import { generatePassword } from '../access/passwords';
import type { ChangeRequestResult } from '../dispatch';
import { selectNodes, type NodeRecord, type NodeSelection } from '../store';
import { classify } from './escrow-config';
import { audited, refusalDeps, ROTATION_ACTOR, type EscrowDeps } from './escrow-deps';
import type { AccountKey, EscrowAccountRecord } from './escrow-repo';
import { nextRotation, scheduledRotation } from './rotation-schedule';

export interface RotationPassResult {
  /** Change requests created by this pass. */
  requests: ChangeRequestResult[];
  /** Due accounts left for later, with why. */
  waiting: Array<AccountKey & { why: string }>;
}

const sameKey = (a: AccountKey, b: AccountKey) =>
  a.nodeId === b.nodeId && a.backend === b.backend && a.account === b.account;

/** When `row`'s account is next due, and why (undefined: nothing scheduled or demanded). */
export function dueOf(
  d: EscrowDeps,
  row: EscrowAccountRecord,
  node: NodeRecord | undefined,
): { at: Date; reason: string; className: string } | undefined {
  const cls = classify(d.config, node, row.backend, row.account);
  const setAt = d.repo.current(row)?.setAt;
  const since = new Date(setAt && setAt > row.trackedSince ? setAt : row.trackedSince);
  const next = nextRotation({
    scheduled: scheduledRotation(cls.schedule, cls.spreadSeconds, row, since),
    demanded: row.rotateAfter ? new Date(row.rotateAfter) : undefined,
    notBefore: row.nextAttempt ? new Date(row.nextAttempt) : undefined,
  });
  if (!next) return undefined;
  return {
    at: next.at,
    reason:
      next.why === 'schedule' ? `scheduled rotation (class ${cls.name})` : row.rotateReason || 'rotation asked for',
    className: cls.name,
  };
}

function whyNot(node: NodeRecord | undefined, a: AccountKey): string | undefined {
  if (!node || node.revoked) return 'skipped: node revoked or unknown';
  if (!node.online) return 'waiting: node offline';
  if (node.busy) return 'waiting: node busy';
  if (node.backends.length > 0 && !node.backends.includes(a.backend))
    return 'skipped: the node does not run this backend';
  const local = node.policy.find((p) => p.backend === a.backend && p.account === a.account);
  if (node.policy.length > 0 && !local?.actions.includes(Action.ACTION_RESET_PASSWORD))
    return "skipped: the node's own policy does not allow password resets of this account";
  return undefined;
}

/** Starts tracking accounts of scheduled classes that the inventory shows and escrow does not know yet. */
function trackInventory(d: EscrowDeps, nodeIds: readonly string[] | undefined, now: Date): void {
  const nodes = new Map(d.store.nodes.list({ ids: nodeIds }).map((n) => [n.id, n]));
  const fresh = d.store.accounts.list({ nodeIds }).filter((a) => {
    if (!a.state.exists) return false;
    const node = nodes.get(a.nodeId);
    return !!node && !node.revoked && classify(d.config, node, a.state.backend, a.state.account).schedule !== undefined;
  });
  if (fresh.length === 0) return;
  d.store.db.transaction(() => {
    for (const a of fresh)
      d.repo.ensureAccount({ nodeId: a.nodeId, backend: a.state.backend, account: a.state.account }, now);
  })();
}

/** One rotation pass over every tracked account (or those of `only`). */
async function pass(
  d: EscrowDeps,
  only?: { nodeId?: string; accounts?: readonly AccountKey[] },
): Promise<RotationPassResult> {
  const now = d.clock.now();
  d.repo.expireReveals(now);
  trackInventory(d, only?.nodeId ? [only.nodeId] : undefined, now);
  const rows = d.repo
    .accounts()
    .filter(
      (r) =>
        (!only?.nodeId || r.nodeId === only.nodeId) && (!only?.accounts || only.accounts.some((a) => sameKey(a, r))),
    );
  const waiting: RotationPassResult['waiting'] = [];
  const groups = new Map<string, { backend: Backend; account: string; reason: string; nodes: string[] }>();
  for (const row of rows) {
    const node = d.store.nodes.get(row.nodeId);
    const due = dueOf(d, row, node);
    if (!due || due.at > now || d.repo.inFlight(row)) continue;
    const why = whyNot(node, row);
    if (why) {
      if (row.lastRotationOutcome !== why) d.repo.setOutcome(row, why);
      waiting.push({ nodeId: row.nodeId, backend: row.backend, account: row.account, why });
      continue;
    }
    const key = `${row.backend}\0${row.account}\0${due.reason}`;
    const g = groups.get(key) ?? {
      backend: row.backend,
      account: row.account,
      reason: due.reason,
      nodes: [] as string[],
    };
    g.nodes.push(row.nodeId);
    groups.set(key, g);
  }
  const requests: ChangeRequestResult[] = [];
  for (const g of groups.values()) {
    const rules = d.policy.passwordRules(g.backend, g.account);
    try {
      const created = await d.dispatcher.createChangeRequest({
        requestedBy: ROTATION_ACTOR,
        reason: g.reason,
        backend: g.backend,
        account: g.account,
        action: Action.ACTION_RESET_PASSWORD,
        targets: g.nodes.map((nodeId) => ({ nodeId, secret: generatePassword(g.backend, rules) })),
        needsApproval: false,
        privileged: d.policy.isPrivileged(g.backend, g.account),
        requireIdle: true,
        ttlSeconds: d.config.rotationTtlSeconds,
      });
      for (const nodeId of g.nodes) {
        const a = { nodeId, backend: g.backend, account: g.account };
        // The result may already have been recorded (a fast node); only an open rotation is "in progress".
        if (d.repo.inFlight(a)) d.repo.setOutcome(a, 'in progress');
      }
      requests.push(created);
      d.log.info(
        { requestId: created.request.id, account: g.account, nodes: g.nodes.length, reason: g.reason },
        'rotation requested',
      );
    } catch (e) {
      const err = asFleetpassError(e);
      d.log.error({ err, account: g.account, nodes: g.nodes.length }, 'cannot request a rotation');
      for (const nodeId of g.nodes)
        d.repo.setOutcome({ nodeId, backend: g.backend, account: g.account }, `not started: ${err.code}`);
    }
  }
  return { requests, waiting };
}

/** Runs passes one at a time. */
export function createRotator(d: EscrowDeps) {
  let chain: Promise<unknown> = Promise.resolve();
  function serial(only?: Parameters<typeof pass>[1]): Promise<RotationPassResult> {
    const next = chain.then(() => pass(d, only));
    chain = next.catch(() => undefined);
    return next;
  }
  return {
    /** The scheduled pass over the whole fleet. */
    runPass: (): Promise<RotationPassResult> => serial(),
    /** A node came back: rotate what fell due while it was away. */
    onNodeOnline: (nodeId: string): Promise<RotationPassResult> => serial({ nodeId }),
    /**
     * An operator asks to rotate one account on some nodes now. Audited by the operator with the reason;
     * offline and busy nodes get theirs when they are back and idle. the service layer checked 'escrow.rotate';
     * the account policy must allow the operator's role to reset the account.
     */
    async rotateNow(
      p: Principal,
      input: { selection: NodeSelection; backend: Backend; account: string; reason: string },
    ): Promise<RotationPassResult> {
      const reason = input.reason?.trim() ?? '';
      if (!reason) throw new FleetpassError('FP_REASON_REQUIRED');
      if (reason.length > 500)
        throw new FleetpassError('FP_INVALID_ARGUMENT', 'the reason is longer than 500 characters');
      if (![Backend.BACKEND_LINUX, Backend.BACKEND_SSR, Backend.BACKEND_LRM].includes(input.backend))
        throw new FleetpassError('FP_INVALID_ARGUMENT', 'choose the backend: linux, ssr or lrm');
      assertAccountName(input.account);
      if (!d.policy.allows(p.role, input.backend, input.account, Action.ACTION_RESET_PASSWORD)) {
        const error = new FleetpassError(
          'FP_POLICY_FORBIDDEN',
          `the controller policy does not let the ${p.role} role reset ${input.account}`,
        );
        throw recordRefusal(refusalDeps(d), p, 'rotating passwords', error, { account: input.account, reason });
      }
      const nodes = selectNodes(d.store, { ...input.selection, account: input.account, backend: input.backend }).filter(
        (n) => !n.revoked,
      );
      if (nodes.length === 0) throw new FleetpassError('FP_NO_NODES_MATCHED');
      const now = d.clock.now();
      const accounts = nodes.map((n) => ({ nodeId: n.id, backend: input.backend, account: input.account }));
      audited(d, (audit) => {
        for (const a of accounts) {
          d.repo.ensureAccount(a, now);
          d.repo.demandRotation(a, now, `asked by ${p.name}: ${reason}`);
          d.repo.clearBackoff(a);
        }
        audit.append({
          actor: p.name,
          action: 'escrow.rotation.requested',
          account: input.account,
          outcome: 'requested',
          reason,
          details: { backend: Backend[input.backend], nodes: nodes.map((n) => n.id) },
        });
      });
      return serial({ accounts });
    },
    /** Resolves when the pass in progress (if any) has finished. */
    idle: (): Promise<unknown> => chain,
  };
}

export type Rotator = ReturnType<typeof createRotator>;
