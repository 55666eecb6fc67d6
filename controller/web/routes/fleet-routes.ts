/**
 * Fleet reads: nodes, accounts (locked first), one node with its accounts and pending operations, one
 * account's history of lockouts and resets (state history + audit), the per-day activity chart data, and
 * the live event stream. Each is one service-layer call (its role checks decide); this file only checks
 * the shape of the request and maps the answer to JSON.
 */
import type { FastifyInstance } from 'fastify';
import { FleetpassError } from '../../../shared/errors';
import type { AccountHistoryJson, AccountJson, ActivityJson, NodeDetailJson, NodeJson } from '../api-types';
import { activityJson } from '../activity';
import { errorResponse } from '../http-errors';
import { NO_STORE_HEADERS, SECURITY_HEADERS } from '../security-headers';
import {
  accountJson,
  accountStateJson,
  auditRecordJson,
  backendFromWord,
  nodeJson,
  nodeViewJson,
  operationJson,
} from '../views';
import type { WebContext } from '../web-context';

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function nodeIdParam(id: unknown): string {
  if (typeof id !== 'string' || !NODE_ID.test(id))
    throw new FleetpassError('FP_INVALID_ARGUMENT', 'that is not a node id');
  return id;
}

export function registerFleetRoutes(app: FastifyInstance, web: WebContext): void {
  const { service } = web;

  app.get('/api/nodes', async (req): Promise<{ nodes: NodeJson[] }> => {
    const { principal } = web.auth(req, 'read');
    return { nodes: service.listNodes(principal).map(nodeViewJson) };
  });

  app.get('/api/accounts', async (req): Promise<{ accounts: AccountJson[] }> => {
    const { principal } = web.auth(req, 'read');
    const lockedOnly = (req.query as { locked?: string }).locked === '1';
    return { accounts: service.listAccounts(principal, { lockedOnly }).map(accountJson) };
  });

  app.get('/api/nodes/:id', async (req): Promise<NodeDetailJson> => {
    const { principal } = web.auth(req, 'read');
    const id = nodeIdParam((req.params as { id: string }).id);
    const d = service.nodeDetail(principal, id);
    const accounts = d.accounts.map(accountJson);
    const pending: NodeDetailJson['pending'] = d.pending.map((p) => ({
      ...operationJson(p.operation),
      requestedBy: p.request.requestedBy,
      reason: p.request.reason,
      requestState: p.request.state,
    }));
    const node = d.node;
    return { node: nodeJson(node, accounts.filter((a) => a.state.locked).length), accounts, pending };
  });

  app.get('/api/nodes/:id/accounts/:backend/:account', async (req): Promise<AccountHistoryJson> => {
    const { principal } = web.auth(req, 'read');
    const p = req.params as { id: string; backend: string; account: string };
    const id = nodeIdParam(p.id);
    const backend = backendFromWord(p.backend);
    if (backend === undefined) throw new FleetpassError('FP_INVALID_ARGUMENT', 'the backend must be linux, ssr or lrm');
    const r = service.accountHistory(principal, { nodeId: id, backend, account: p.account, limit: 100 });
    const history = r.history.map((h) => ({
      observed: h.observed,
      source: h.source,
      state: accountStateJson(h.state),
    }));
    const audit = r.audit.map(auditRecordJson);
    return { history, audit };
  });

  app.get('/api/activity', async (req): Promise<ActivityJson> => {
    const { principal } = web.auth(req, 'read');
    const days = Number((req.query as { days?: string }).days ?? 30);
    return activityJson(service.fleetActivity(principal, days));
  });

  app.get('/api/events', async (req, reply) => {
    const { session, principal } = web.auth(req, 'stream');
    service.authorizeFleetWatch(principal);
    // The stream outlives this handler: fastify steps aside and the hub owns the socket.
    reply.hijack();
    const res = reply.raw;
    try {
      web.hub.open(session, res, { ...SECURITY_HEADERS, ...NO_STORE_HEADERS });
    } catch (e) {
      const { statusCode, body } = errorResponse(e, web.log);
      res.writeHead(statusCode, {
        ...SECURITY_HEADERS,
        ...NO_STORE_HEADERS,
        'content-type': 'application/json; charset=utf-8',
      });
      res.end(JSON.stringify(body));
    }
  });
}
