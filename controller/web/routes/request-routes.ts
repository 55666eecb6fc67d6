/**
 * Unlocks, resets and their approvals: ask (one account on one node or a selection of nodes, reason
 * required, generated password only), list, read one with its operations, approve, reject, cancel. Each
 * is one service-layer call: its roles, policy, second-person rule and refusal audit decide; this file
 * only checks the shape of the JSON. Generated passwords appear once, in the answer to the ask.
 */
import type { FastifyInstance } from 'fastify';
import { FleetpassError } from '../../../shared/errors';
import { Action } from '../../../shared/gen/fleetpass/v1/common';
import type { ChangeRequestState } from '../../store';
import type { NewRequestResult, RequestJson } from '../api-types';
import { NO_STORE_HEADERS } from '../security-headers';
import { backendFromWord, requestJson } from '../views';
import type { WebContext } from '../web-context';

const MAX_NODES = 1000;
const VIEWS: Record<string, readonly ChangeRequestState[] | undefined> = {
  pending: ['pending_approval'],
  open: ['pending_approval', 'approved'],
  all: undefined,
};

function parseAsk(body: unknown) {
  const b = (body ?? {}) as Record<string, unknown>;
  const action =
    b.action === 'unlock'
      ? Action.ACTION_UNLOCK
      : b.action === 'reset_password'
        ? Action.ACTION_RESET_PASSWORD
        : undefined;
  if (action === undefined)
    throw new FleetpassError('FP_INVALID_ARGUMENT', 'the action must be unlock or reset_password');
  const backend = backendFromWord(b.backend);
  if (backend === undefined) throw new FleetpassError('FP_INVALID_ARGUMENT', 'the backend must be linux, ssr or lrm');
  if (typeof b.account !== 'string') throw new FleetpassError('FP_INVALID_ARGUMENT', 'name the account');
  if (
    !Array.isArray(b.nodeIds) ||
    b.nodeIds.length === 0 ||
    b.nodeIds.length > MAX_NODES ||
    !b.nodeIds.every((n) => typeof n === 'string' && n.length <= 128)
  ) {
    throw new FleetpassError('FP_INVALID_ARGUMENT', `choose 1 to ${MAX_NODES} nodes`);
  }
  if (typeof b.reason !== 'string') throw new FleetpassError('FP_REASON_REQUIRED');
  return {
    action,
    backend,
    account: b.account,
    nodeIds: [...new Set(b.nodeIds as string[])],
    reason: b.reason,
    dryRun: b.dryRun === true,
  };
}

function noteOf(body: unknown): string {
  const note = (body as { note?: unknown } | undefined)?.note ?? '';
  if (typeof note !== 'string' || note.length > 500)
    throw new FleetpassError('FP_INVALID_ARGUMENT', 'the note must be text of at most 500 characters');
  return note.trim();
}

export function registerRequestRoutes(app: FastifyInstance, web: WebContext): void {
  const { service: admin } = web;

  app.post('/api/requests', async (req, reply): Promise<NewRequestResult> => {
    const { principal } = web.auth(req, 'change');
    const ask = parseAsk(req.body);
    const r = await admin.requestOperations(principal, {
      selection: { nodeIds: ask.nodeIds },
      backend: ask.backend,
      account: ask.account,
      action: ask.action,
      reason: ask.reason,
      dryRun: ask.dryRun,
      password: ask.action === Action.ACTION_RESET_PASSWORD ? { source: 'generate' } : undefined,
    });
    reply.headers(NO_STORE_HEADERS);
    return {
      request: r.request ? requestJson(r.request.request, r.request.counts, r.request.operations) : null,
      needsApproval: r.needsApproval,
      privileged: r.privileged,
      warnings: r.warnings,
      nodeIds: r.nodes.map((n) => n.id),
      generatedPasswords: r.generatedPasswords,
    };
  });

  app.get('/api/requests', async (req): Promise<{ requests: RequestJson[] }> => {
    const { principal } = web.auth(req, 'read');
    const view = (req.query as { view?: string }).view ?? 'open';
    if (!(view in VIEWS)) throw new FleetpassError('FP_INVALID_ARGUMENT', 'view must be pending, open or all');
    return {
      requests: admin
        .listChangeRequests(principal, { states: VIEWS[view], limit: 200 })
        .map((v) => requestJson(v.request, v.counts)),
    };
  });

  app.get('/api/requests/:id', async (req): Promise<RequestJson> => {
    const { principal } = web.auth(req, 'read');
    const v = admin.getChangeRequest(principal, String((req.params as { id: string }).id).slice(0, 100));
    return requestJson(v.request, v.counts, v.operations);
  });

  app.post('/api/requests/:id/:decision', async (req): Promise<RequestJson> => {
    const { principal } = web.auth(req, 'change');
    const { id, decision } = req.params as { id: string; decision: string };
    const note = noteOf(req.body);
    const rid = String(id).slice(0, 100);
    const v =
      decision === 'approve'
        ? await admin.approveChangeRequest(principal, rid, note)
        : decision === 'reject'
          ? admin.rejectChangeRequest(principal, rid, note)
          : decision === 'cancel'
            ? admin.cancelChangeRequest(principal, rid, note)
            : undefined;
    if (!v) throw new FleetpassError('FP_NOT_FOUND', 'the decision must be approve, reject or cancel');
    return requestJson(v.request, v.counts, v.operations);
  });
}
