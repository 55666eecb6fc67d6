/**
 * Break-glass reveal of an escrowed password. the service layer has checked the role ('escrow.reveal');
 * here the account's class decides who may reveal, whether a second person must approve first (the
 * reveal then waits; an approver who is not the requester decides; the requester collects it once with
 * its id), and whether the account is rotated when the grace period after the reveal ends. Every reveal,
 * decision and refusal is audited with its reason, never with the password; the audit record commits
 * before the password is handed out.
 */
import { randomUUID } from 'node:crypto';
import { FleetpassError, nodeUnknown } from '../../shared/errors';
import { Backend } from '../../shared/gen/fleetpass/v1/common';
import { assertAccountName } from '../../shared/validation/account-name';
import type { Principal } from '../access/authenticate';
import { recordRefusal } from '../access/refusal';
import { classify, type AccountClass } from './escrow-config';
import { audited, refusalDeps, type EscrowDeps } from './escrow-deps';
import type { AccountKey, RevealRecord } from './escrow-repo';
import { openSecret } from './envelope';

export interface RevealInput extends AccountKey {
  reason: string;
}

export type RevealResult =
  | { state: 'revealed'; reveal: RevealRecord; password: string; rotateAfter?: Date }
  | { state: 'pending'; reveal: RevealRecord };

const MAX_REASON = 500;
const BACKENDS = new Set([Backend.BACKEND_LINUX, Backend.BACKEND_SSR, Backend.BACKEND_LRM]);

function refuse(
  d: EscrowDeps,
  p: Principal,
  what: string,
  error: FleetpassError,
  facts: { nodeId?: string; account?: string; reason?: string; revealId?: string },
): FleetpassError {
  const { revealId, ...rest } = facts;
  return recordRefusal(refusalDeps(d), p, what, error, { ...rest, details: { revealId } });
}

function classOf(d: EscrowDeps, a: AccountKey): AccountClass {
  const node = d.store.nodes.get(a.nodeId);
  if (!node) throw nodeUnknown(a.nodeId);
  return classify(d.config, node, a.backend, a.account);
}

function assertMayReveal(
  d: EscrowDeps,
  p: Principal,
  cls: AccountClass,
  a: AccountKey,
  reason: string,
  revealId?: string,
): void {
  if (!(cls.revealRoles as readonly string[]).includes(p.role)) {
    throw refuse(
      d,
      p,
      'revealing a password',
      new FleetpassError(
        'FP_POLICY_FORBIDDEN',
        `the escrow policy does not let the ${p.role} role reveal ${a.account} passwords${cls.name ? ` (class ${cls.name})` : ''}`,
      ),
      { ...a, reason, revealId },
    );
  }
}

/** Opens the current password of `a` (FP_ESCROW_NOT_FOUND when none is escrowed). */
function currentPassword(d: EscrowDeps, a: AccountKey): { password: string; version: number } {
  const current = d.repo.current(a);
  if (!current) throw new FleetpassError('FP_ESCROW_NOT_FOUND', `no escrowed password for ${a.account} on ${a.nodeId}`);
  return { password: openSecret(d.master.key, current.sealed, current), version: current.version };
}

/** In the reveal's transaction: remember the reveal and ask for the post-use rotation. */
function afterUse(d: EscrowDeps, cls: AccountClass, a: AccountKey, reveal: string, now: Date): Date | undefined {
  d.repo.markRevealed(a, now);
  if (!cls.rotateAfterReveal) return undefined;
  const at = new Date(now.getTime() + cls.graceSeconds * 1000);
  d.repo.demandRotation(a, at, `post-use (reveal ${reveal})`);
  return at;
}

/** Asks to see the current password: revealed at once, or pending when the class needs approval. */
export function requestReveal(d: EscrowDeps, p: Principal, input: RevealInput): RevealResult {
  const reason = input.reason?.trim() ?? '';
  if (!reason) throw new FleetpassError('FP_REASON_REQUIRED');
  if (reason.length > MAX_REASON)
    throw new FleetpassError('FP_INVALID_ARGUMENT', `the reason is longer than ${MAX_REASON} characters`);
  if (!BACKENDS.has(input.backend))
    throw new FleetpassError('FP_INVALID_ARGUMENT', 'choose the backend: linux, ssr or lrm');
  assertAccountName(input.account);
  const a: AccountKey = { nodeId: input.nodeId, backend: input.backend, account: input.account };
  const cls = classOf(d, a);
  assertMayReveal(d, p, cls, a, reason);
  const now = d.clock.now();
  const id = randomUUID();
  const base = { id, ...a, requestedBy: p.name, reason, created: now.toISOString() };
  const facts = { actor: p.name, nodeId: a.nodeId, account: a.account, reason };
  if (cls.revealNeedsApproval) {
    if (!d.repo.current(a))
      throw new FleetpassError('FP_ESCROW_NOT_FOUND', `no escrowed password for ${a.account} on ${a.nodeId}`);
    const expires = new Date(now.getTime() + d.config.revealTtlSeconds * 1000).toISOString();
    audited(d, (audit) => {
      d.repo.insertReveal({ ...base, state: 'pending', needsApproval: true, expires });
      audit.append({
        ...facts,
        action: 'escrow.reveal.requested',
        outcome: 'pending_approval',
        details: { revealId: id, backend: Backend[a.backend], class: cls.name, expires },
      });
    });
    d.log.info({ revealId: id, operator: p.name, nodeId: a.nodeId, account: a.account }, 'reveal waits for approval');
    return { state: 'pending', reveal: d.repo.reveal(id)! };
  }
  const { password, version } = currentPassword(d, a);
  const rotateAfter = audited(d, (audit) => {
    d.repo.insertReveal({ ...base, state: 'approved', needsApproval: false, expires: now.toISOString() });
    d.repo.collect(id, 'approved', now, version);
    const at = afterUse(d, cls, a, id, now);
    audit.append({
      ...facts,
      action: 'escrow.revealed',
      outcome: 'revealed',
      details: {
        revealId: id,
        backend: Backend[a.backend],
        version,
        class: cls.name,
        rotateAfter: at?.toISOString() ?? '',
      },
    });
    return at;
  });
  d.log.info({ revealId: id, operator: p.name, nodeId: a.nodeId, account: a.account }, 'password revealed');
  return { state: 'revealed', reveal: d.repo.reveal(id)!, password, rotateAfter };
}

/** The reveal, with a lapsed one marked expired first. */
export function getReveal(d: EscrowDeps, id: string): RevealRecord {
  d.repo.expireReveals(d.clock.now());
  const r = typeof id === 'string' && id.length <= 64 ? d.repo.reveal(id) : undefined;
  if (!r)
    throw new FleetpassError('FP_REVEAL_NOT_FOUND', `no reveal with id ${JSON.stringify(String(id).slice(0, 64))}`);
  return r;
}

/** An approver decides on a pending reveal (the service layer has applied the second-person rule; checked again). */
export function decideReveal(
  d: EscrowDeps,
  p: Principal,
  input: { revealId: string; approve: boolean; note: string },
): RevealRecord {
  const r = getReveal(d, input.revealId);
  if (r.requestedBy === p.name) throw new FleetpassError('FP_SELF_APPROVAL');
  const note = (input.note ?? '').trim().slice(0, MAX_REASON);
  if (r.state !== 'pending') throw new FleetpassError('FP_REVEAL_NOT_PENDING', `the reveal is ${r.state}`);
  const now = d.clock.now();
  const to = input.approve ? 'approved' : 'rejected';
  const expires = input.approve ? new Date(now.getTime() + d.config.revealTtlSeconds * 1000).toISOString() : r.expires;
  audited(d, (audit) => {
    if (!d.repo.decide(r.id, to, p.name, note, now, expires))
      throw new FleetpassError('FP_REVEAL_NOT_PENDING', 'the reveal was decided meanwhile');
    audit.append({
      actor: p.name,
      action: `escrow.reveal.${to}`,
      outcome: to,
      nodeId: r.nodeId,
      account: r.account,
      reason: note,
      details: { revealId: r.id, requestedBy: r.requestedBy, expires: input.approve ? expires : undefined },
    });
  });
  d.log.info({ revealId: r.id, decidedBy: p.name, decision: to }, 'reveal decided');
  return d.repo.reveal(r.id)!;
}

/** The requester collects an approved reveal, once. */
export function collectReveal(d: EscrowDeps, p: Principal, revealId: string): RevealResult {
  const r = getReveal(d, revealId);
  const facts = { nodeId: r.nodeId, account: r.account, reason: r.reason, revealId: r.id };
  if (r.requestedBy !== p.name) {
    throw refuse(
      d,
      p,
      "collecting someone else's reveal",
      new FleetpassError('FP_REVEAL_NOT_COLLECTABLE', 'only the operator who asked for this reveal can collect it'),
      facts,
    );
  }
  if (r.state === 'pending') throw new FleetpassError('FP_REVEAL_PENDING');
  if (r.state !== 'approved') throw new FleetpassError('FP_REVEAL_NOT_COLLECTABLE', `the reveal is ${r.state}`);
  const cls = classOf(d, r);
  assertMayReveal(d, p, cls, r, r.reason, r.id);
  const { password, version } = currentPassword(d, r);
  const now = d.clock.now();
  const rotateAfter = audited(d, (audit) => {
    if (!d.repo.collect(r.id, 'approved', now, version))
      throw new FleetpassError('FP_REVEAL_NOT_COLLECTABLE', 'the reveal was collected meanwhile');
    const at = afterUse(d, cls, r, r.id, now);
    audit.append({
      actor: p.name,
      action: 'escrow.revealed',
      outcome: 'revealed',
      nodeId: r.nodeId,
      account: r.account,
      reason: r.reason,
      details: {
        revealId: r.id,
        backend: Backend[r.backend],
        version,
        class: cls.name,
        approvedBy: r.decidedBy,
        rotateAfter: at?.toISOString() ?? '',
      },
    });
    return at;
  });
  d.log.info({ revealId: r.id, operator: p.name, nodeId: r.nodeId, account: r.account }, 'approved password revealed');
  return { state: 'revealed', reveal: d.repo.reveal(r.id)!, password, rotateAfter };
}

/** Reveals, newest first (open ones only when asked); lapsed ones are marked expired first. */
export function listReveals(d: EscrowDeps, o: { openOnly?: boolean; limit?: number } = {}): RevealRecord[] {
  d.repo.expireReveals(d.clock.now());
  return d.repo.reveals(o);
}
