/**
 * Password escrow for operators: reveal (maybe after a second person's approval, per account class),
 * collect an approved reveal, decide someone else's reveal (the second-person rule), rotate now, status
 * and open reveals. The roles are checked here; the escrow policy (which classes reveal, with approval)
 * and its audit are the engine's (controller/escrow). With escrow.enabled false every call answers
 * FP_ACTION_UNSUPPORTED. A backend left unspecified means linux (the instruments' accounts).
 */
import { FleetpassError } from '../../shared/errors';
import { Backend } from '../../shared/gen/fleetpass/v1/common';
import type { Principal } from '../access/authenticate';
import type { Escrow, EscrowStatusEntry, RevealRecord, RevealResult } from '../escrow';
import { changeRequestView, type ChangeRequestView, type NodeSelection } from '../store';
import type { ServiceContext } from './context';

/** Ask for a new reveal of one account's password. */
export interface RevealAsk {
  nodeId: string;
  backend: Backend;
  account: string;
  reason: string;
}

export interface RotateAsk {
  selection: NodeSelection;
  backend: Backend;
  account: string;
  reason: string;
}

const backendOr = (b: Backend) => (b === Backend.BACKEND_UNSPECIFIED ? Backend.BACKEND_LINUX : b);

export function escrowService(ctx: ServiceContext) {
  const { rules } = ctx;

  function engine(): Escrow {
    if (!ctx.escrow)
      throw new FleetpassError(
        'FP_ACTION_UNSUPPORTED',
        'password escrow is turned off on this controller (escrow.enabled: false)',
      );
    return ctx.escrow;
  }

  return {
    /** A new reveal, or (`revealId`) the collection of an approved one by the operator who asked. */
    revealPassword(p: Principal, input: RevealAsk | { revealId: string }): RevealResult {
      const facts = 'revealId' in input ? {} : { nodeId: input.nodeId, account: input.account, reason: input.reason };
      rules.authorize(p, 'escrow.reveal', 'revealing passwords', facts);
      const e = engine();
      if ('revealId' in input) return e.collect(p, input.revealId);
      return e.reveal(p, {
        nodeId: input.nodeId,
        backend: backendOr(input.backend),
        account: input.account,
        reason: input.reason,
      });
    },
    /** Rotates now; offline or busy nodes get no request now (they are rotated when back and idle). */
    async rotatePasswords(p: Principal, input: RotateAsk): Promise<{ request?: ChangeRequestView }> {
      rules.authorize(p, 'escrow.rotate', 'rotating passwords', { account: input.account, reason: input.reason });
      const e = engine();
      const sel = input.selection;
      if (!sel.all && !sel.nodeIds?.length && !Object.keys(sel.labels ?? {}).length) {
        throw new FleetpassError('FP_INVALID_ARGUMENT', 'choose the nodes by id, by label, or all of them');
      }
      const r = await e.rotateNow(p, {
        selection: sel,
        backend: backendOr(input.backend),
        account: input.account,
        reason: input.reason,
      });
      if (r.requests.length === 0) return {};
      return { request: changeRequestView(ctx.store, r.requests[0].request.id) };
    },
    escrowStatus(p: Principal, selection?: NodeSelection): EscrowStatusEntry[] {
      rules.authorize(p, 'escrow.read', 'reading escrow status');
      return engine().status(selection);
    },
    listReveals(p: Principal, input: { openOnly?: boolean } = {}): RevealRecord[] {
      rules.authorize(p, 'escrow.read', 'listing password reveals');
      return engine().listReveals({ openOnly: input.openOnly });
    },
    /** A second person approves or rejects a reveal that needs approval; never the requester (FP_SELF_APPROVAL, audited). */
    decideReveal(p: Principal, input: { revealId: string; approve: boolean; note: string }): RevealRecord {
      const what = input.approve ? 'approving a password reveal' : 'rejecting a password reveal';
      rules.authorize(p, 'requests.decide', what, { details: { revealId: String(input.revealId).slice(0, 64) } });
      const e = engine();
      const reveal = e.getReveal(input.revealId);
      rules.assertMayDecide(p, reveal.requestedBy, what, {
        nodeId: reveal.nodeId,
        account: reveal.account,
        details: { revealId: reveal.id },
      });
      return e.decide(p, { revealId: input.revealId, approve: input.approve, note: input.note });
    },
  };
}
