/**
 * Password escrow for the admin API: the EscrowExtension admin-service calls after its role checks. It
 * maps the proto messages to the engine and back; the rules and the audit live in the engine. A backend
 * left unspecified means linux (the instruments' accounts).
 */
import { FleetpassError } from '../../shared/errors';
import { RevealState, type EscrowEntry, type NodeSelector, type Reveal } from '../../shared/gen/fleetpass/v1/admin';
import { Backend } from '../../shared/gen/fleetpass/v1/common';
import type { EscrowExtension } from '../admin/extensions';
import { changeRequestToProto, operationToProto, type NodeSelection } from '../service';
import type { Escrow } from './escrow';
import type { RevealRecord, RevealRecordState } from './escrow-repo';
import type { EscrowStatusEntry } from './status';

const STATES: Record<RevealRecordState, RevealState> = {
  pending: RevealState.REVEAL_STATE_PENDING_APPROVAL,
  approved: RevealState.REVEAL_STATE_APPROVED,
  rejected: RevealState.REVEAL_STATE_REJECTED,
  collected: RevealState.REVEAL_STATE_REVEALED,
  expired: RevealState.REVEAL_STATE_EXPIRED,
};

const date = (s: string | null): Date | undefined => (s ? new Date(s) : undefined);

export function revealToProto(r: RevealRecord): Reveal {
  return {
    id: r.id, nodeId: r.nodeId, backend: r.backend, account: r.account, requestedBy: r.requestedBy, reason: r.reason, state: STATES[r.state],
    needsApproval: r.needsApproval, decidedBy: r.decidedBy, decisionNote: r.decisionNote, created: new Date(r.created), expires: new Date(r.expires),
    collected: date(r.collected),
  };
}

export function entryToProto(e: EscrowStatusEntry): EscrowEntry {
  return {
    nodeId: e.nodeId, backend: e.backend, account: e.account, setAt: date(e.setAt), setBy: e.setBy, versions: e.versions, lastRevealed: date(e.lastRevealed),
    nextRotation: date(e.nextRotation), rotationClass: e.rotationClass, lastRotationOutcome: e.lastRotationOutcome, lastRotationAt: date(e.lastRotationAt),
    rotationReason: e.rotationReason, inFlight: e.inFlight,
  };
}

function selection(s: NodeSelector | undefined): NodeSelection {
  return { nodeIds: s?.nodeIds ?? [], labels: s?.labels ?? {}, all: s?.all ?? false };
}

const backendOr = (b: Backend) => (b === Backend.BACKEND_UNSPECIFIED ? Backend.BACKEND_LINUX : b);

/** The admin extension over an engine that may not exist yet (`engine` throws until the plugin started). */
export function escrowAdminExtension(engine: () => Escrow): EscrowExtension {
  return {
    reveal(p, input) {
      const r = input.revealId
        ? engine().collect(p, input.revealId)
        : engine().reveal(p, { nodeId: input.nodeId, backend: backendOr(input.backend), account: input.account, reason: input.reason });
      if (r.state === 'pending') return { state: RevealState.REVEAL_STATE_PENDING_APPROVAL, revealId: r.reveal.id, password: '', rotateAfter: undefined };
      return { state: RevealState.REVEAL_STATE_REVEALED, revealId: r.reveal.id, password: r.password, rotateAfter: r.rotateAfter };
    },
    async rotate(p, input) {
      const sel = selection(input.selector);
      if (!sel.all && !sel.nodeIds?.length && !Object.keys(sel.labels ?? {}).length) throw new FleetpassError('FP_INVALID_ARGUMENT', 'choose the nodes by id, by label, or all of them');
      const e = engine();
      const r = await e.rotateNow(p, { selection: sel, backend: backendOr(input.backend), account: input.account, reason: input.reason });
      // Offline or busy nodes get no request now: they are rotated when back and idle (see EscrowStatus).
      if (r.requests.length === 0) return { request: undefined, operations: [] };
      const v = e.deps.service.getChangeRequest(r.requests[0].request.id);
      return { request: changeRequestToProto(v.request, v.counts), operations: v.operations.map((o) => operationToProto(o, e.deps.store.nodes.get(o.nodeId))) };
    },
    status(_p, input) {
      return { entries: engine().status(input.selector ? selection(input.selector) : undefined).map(entryToProto) };
    },
    listReveals(_p, input) {
      return { reveals: engine().listReveals({ openOnly: input.openOnly }).map(revealToProto) };
    },
    getReveal: (_p, id) => revealToProto(engine().getReveal(id)),
    decideReveal(p, input) {
      return { reveal: revealToProto(engine().decide(p, { revealId: input.revealId, approve: input.approve, note: input.note })) };
    },
  };
}
