/**
 * Password escrow in the console: status per account (set at/by, versions, last reveal, next and last
 * rotation), reveals waiting for approval or collection, reveal with a reason (the answer carries the
 * password once, never cached), collect an approved reveal, approve or reject someone else's, and rotate
 * now. Each is one service-layer call: roles, the escrow policy, the second-person rule and the audit
 * live there; this file only checks the shape of the JSON and maps the answer.
 */
import type { FastifyInstance } from 'fastify';
import { FleetpassError, isFleetpassError } from '../../../shared/errors';
import type { EscrowStatusEntry, RevealRecord, RevealRecordState, RevealResult } from '../../escrow';
import type {
  EscrowEntryJson,
  EscrowStatusJson,
  RequestJson,
  RevealAnswerJson,
  RevealJson,
  RevealStateWord,
} from '../api-types';
import { NO_STORE_HEADERS } from '../security-headers';
import { backendFromWord, backendWord, requestJson } from '../views';
import type { WebContext } from '../web-context';

const iso = (d: Date | string | null | undefined): string | null => (d ? new Date(d).toISOString() : null);
const MAX_NODES = 1000;

const STATES: Record<RevealRecordState, RevealStateWord> = {
  pending: 'pending',
  approved: 'approved',
  rejected: 'rejected',
  collected: 'revealed',
  expired: 'expired',
};

function revealJson(r: RevealRecord): RevealJson {
  return {
    id: r.id,
    nodeId: r.nodeId,
    backend: backendWord(r.backend),
    account: r.account,
    requestedBy: r.requestedBy,
    reason: r.reason,
    state: STATES[r.state] ?? 'expired',
    needsApproval: r.needsApproval,
    decidedBy: r.decidedBy,
    decisionNote: r.decisionNote,
    created: iso(r.created),
    expires: iso(r.expires),
  };
}

function entryJson(e: EscrowStatusEntry, hostname: string): EscrowEntryJson {
  return {
    nodeId: e.nodeId,
    hostname,
    backend: backendWord(e.backend),
    account: e.account,
    rotationClass: e.rotationClass,
    setAt: iso(e.setAt),
    setBy: e.setBy,
    versions: e.versions,
    lastRevealed: iso(e.lastRevealed),
    nextRotation: iso(e.nextRotation),
    rotationReason: e.rotationReason,
    lastRotationAt: iso(e.lastRotationAt),
    lastRotationOutcome: e.lastRotationOutcome,
    inFlight: e.inFlight,
  };
}

function answerJson(r: RevealResult): RevealAnswerJson {
  if (r.state === 'pending') return { state: 'pending', revealId: r.reveal.id, password: undefined, rotateAfter: null };
  return { state: 'revealed', revealId: r.reveal.id, password: r.password, rotateAfter: iso(r.rotateAfter) };
}

function text(b: Record<string, unknown>, key: string, max: number, what: string): string {
  const v = b[key];
  if (typeof v !== 'string' || v.length > max)
    throw new FleetpassError('FP_INVALID_ARGUMENT', `${what} must be text of at most ${max} characters`);
  return v;
}

function target(body: unknown): { backend: number; account: string; reason: string } {
  const b = (body ?? {}) as Record<string, unknown>;
  const backend = backendFromWord(b.backend ?? 'linux');
  if (backend === undefined) throw new FleetpassError('FP_INVALID_ARGUMENT', 'the backend must be linux, ssr or lrm');
  return { backend, account: text(b, 'account', 64, 'the account'), reason: text(b, 'reason', 500, 'the reason') };
}

export function registerEscrowRoutes(app: FastifyInstance, web: WebContext): void {
  const { service: admin } = web;

  app.get('/api/escrow/status', async (req): Promise<EscrowStatusJson> => {
    const { principal } = web.auth(req, 'read');
    try {
      const [status, reveals] = [admin.escrowStatus(principal), admin.listReveals(principal, { openOnly: true })];
      const names = new Map(admin.listNodes(principal).map((n) => [n.id, n.hostname]));
      return {
        available: true,
        entries: status.map((e) => entryJson(e, names.get(e.nodeId) ?? '')),
        reveals: reveals.map(revealJson),
      };
    } catch (e) {
      if (isFleetpassError(e) && e.code === 'FP_ACTION_UNSUPPORTED')
        return { available: false, message: e.message, entries: [], reveals: [] };
      throw e;
    }
  });

  app.post('/api/escrow/reveal', async (req, reply): Promise<RevealAnswerJson> => {
    const { principal } = web.auth(req, 'change');
    const t = target(req.body);
    const nodeId = text((req.body ?? {}) as Record<string, unknown>, 'nodeId', 128, 'the node');
    const r = admin.revealPassword(principal, { nodeId, backend: t.backend, account: t.account, reason: t.reason });
    reply.headers(NO_STORE_HEADERS);
    return answerJson(r);
  });

  app.post('/api/escrow/reveals/:id/collect', async (req, reply): Promise<RevealAnswerJson> => {
    const { principal } = web.auth(req, 'change');
    const r = admin.revealPassword(principal, { revealId: String((req.params as { id: string }).id).slice(0, 64) });
    reply.headers(NO_STORE_HEADERS);
    return answerJson(r);
  });

  app.post('/api/escrow/reveals/:id/:decision', async (req): Promise<RevealJson> => {
    const { principal } = web.auth(req, 'change');
    const { id, decision } = req.params as { id: string; decision: string };
    if (decision !== 'approve' && decision !== 'reject')
      throw new FleetpassError('FP_NOT_FOUND', 'the decision must be approve or reject');
    const note = (req.body as { note?: unknown } | undefined)?.note ?? '';
    if (typeof note !== 'string' || note.length > 500)
      throw new FleetpassError('FP_INVALID_ARGUMENT', 'the note must be text of at most 500 characters');
    return revealJson(
      admin.decideReveal(principal, {
        revealId: String(id).slice(0, 64),
        approve: decision === 'approve',
        note: note.trim(),
      }),
    );
  });

  app.post('/api/escrow/rotate', async (req): Promise<{ request: RequestJson | null }> => {
    const { principal } = web.auth(req, 'change');
    const t = target(req.body);
    const nodeIds = ((req.body ?? {}) as { nodeIds?: unknown }).nodeIds;
    if (
      !Array.isArray(nodeIds) ||
      nodeIds.length === 0 ||
      nodeIds.length > MAX_NODES ||
      !nodeIds.every((n) => typeof n === 'string' && n.length <= 128)
    ) {
      throw new FleetpassError('FP_INVALID_ARGUMENT', `choose 1 to ${MAX_NODES} nodes`);
    }
    const r = await admin.rotatePasswords(principal, {
      selection: { nodeIds: [...new Set(nodeIds as string[])] },
      backend: t.backend,
      account: t.account,
      reason: t.reason,
    });
    if (!r.request) return { request: null };
    return { request: requestJson(r.request.request, r.request.counts, r.request.operations) };
  });
}
