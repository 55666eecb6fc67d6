/**
 * Fleet reads: nodes, accounts (locked first), one node with its accounts and pending operations, one
 * account's history of lockouts and resets (state history + audit), the per-day activity chart data, and
 * the live event stream. Everything goes through admin-service's role checks; the reads admin-service
 * does not offer (account history, activity) are guarded by its `authorize` before the controller
 * service is asked.
 */
import type { FastifyInstance } from 'fastify';
import { FleetpassError } from '../../../shared/errors';
import { assertAccountName } from '../../../shared/validation/account-name';
import { isFinal } from '../../dispatch';
import type { AccountHistoryJson, AccountJson, ActivityJson, NodeDetailJson, NodeJson } from '../api-types';
import type { ActivityReader } from '../activity';
import { errorResponse } from '../http-errors';
import { NO_STORE_HEADERS, SECURITY_HEADERS } from '../security-headers';
import { accountJson, accountStateJson, auditRecordJson, backendFromWord, nodeJson, nodeViewJson, operationJson } from '../views';
import type { WebContext } from '../web-context';

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function nodeIdParam(id: unknown): string {
  if (typeof id !== 'string' || !NODE_ID.test(id)) throw new FleetpassError('FP_INVALID_ARGUMENT', 'that is not a node id');
  return id;
}

export function registerFleetRoutes(app: FastifyInstance, web: WebContext, activity: ActivityReader): void {
  const { admin, service } = web;

  app.get('/api/nodes', async (req): Promise<{ nodes: NodeJson[] }> => {
    const { principal } = web.auth(req, 'read');
    return { nodes: admin.listNodes(principal).map(nodeViewJson) };
  });

  app.get('/api/accounts', async (req): Promise<{ accounts: AccountJson[] }> => {
    const { principal } = web.auth(req, 'read');
    const lockedOnly = (req.query as { locked?: string }).locked === '1';
    return { accounts: admin.listAccounts(principal, { lockedOnly }).map(accountJson) };
  });

  app.get('/api/nodes/:id', async (req): Promise<NodeDetailJson> => {
    const { principal } = web.auth(req, 'read');
    const id = nodeIdParam((req.params as { id: string }).id);
    const node = admin.getNode(principal, id);
    if (!node) throw new FleetpassError('FP_NODE_UNKNOWN', `no node with id ${JSON.stringify(id)} is enrolled`);
    const accounts = node.revoked ? [] : admin.listAccounts(principal, { selection: { nodeIds: [id] } }).map(accountJson);
    const pending: NodeDetailJson['pending'] = [];
    for (const r of admin.listChangeRequests(principal, { states: ['pending_approval', 'approved'], limit: 200 })) {
      const view = admin.getChangeRequest(principal, r.request.id);
      for (const op of view.operations) {
        if (op.nodeId === id && !isFinal(op.state)) pending.push({ ...operationJson(op), requestedBy: view.request.requestedBy, reason: view.request.reason, requestState: view.request.state });
      }
    }
    return { node: nodeJson(node, accounts.filter((a) => a.state.locked).length), accounts, pending };
  });

  app.get('/api/nodes/:id/accounts/:backend/:account', async (req): Promise<AccountHistoryJson> => {
    const { principal } = web.auth(req, 'read');
    const p = req.params as { id: string; backend: string; account: string };
    const id = nodeIdParam(p.id);
    const backend = backendFromWord(p.backend);
    if (backend === undefined) throw new FleetpassError('FP_INVALID_ARGUMENT', 'the backend must be linux, ssr or lrm');
    const account = assertAccountName(p.account);
    admin.authorize(principal, 'fleet.read', 'reading account history', { nodeId: id, account });
    const history = service.accountHistory(id, backend, account, 100).map((h) => ({ observed: h.observed, source: h.source, state: accountStateJson(h.state) }));
    const audit = admin.queryAudit(principal, { filter: { nodeId: id, account }, descending: true, limit: 100 }).records.map(auditRecordJson);
    return { history, audit };
  });

  app.get('/api/activity', async (req): Promise<ActivityJson> => {
    const { principal } = web.auth(req, 'read');
    const days = Number((req.query as { days?: string }).days ?? 30);
    if (!Number.isInteger(days) || days < 1 || days > 90) throw new FleetpassError('FP_INVALID_ARGUMENT', 'days must be a whole number from 1 to 90');
    admin.authorize(principal, 'fleet.read', 'reading fleet activity');
    admin.authorize(principal, 'audit.read', 'reading fleet activity');
    return activity.read(days);
  });

  app.get('/api/events', async (req, reply) => {
    const { session, principal } = web.auth(req, 'stream');
    admin.authorize(principal, 'fleet.read', 'watching the fleet live');
    // The stream outlives this handler: fastify steps aside and the hub owns the socket.
    reply.hijack();
    const res = reply.raw;
    try {
      web.hub.open(session, res, { ...SECURITY_HEADERS, ...NO_STORE_HEADERS });
    } catch (e) {
      const { statusCode, body } = errorResponse(e, web.log);
      res.writeHead(statusCode, { ...SECURITY_HEADERS, ...NO_STORE_HEADERS, 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    }
  });
}
