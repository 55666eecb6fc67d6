/**
 * Audit review: search with filters (node, account, operator, action, outcome, request, time) newest
 * first with cursor paging, the chain verification status, and the export (CSV or JSON Lines) streamed
 * as a download. All through the service layer (the export writes its own audit record there).
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { FleetpassError } from '../../../shared/errors';
import type { AuditFilter } from '../../audit';
import type { AuditPageJson, VerifyJson } from '../api-types';
import { NO_STORE_HEADERS } from '../security-headers';
import { auditRecordJson } from '../views';
import type { WebContext } from '../web-context';

const TEXT_FILTERS = {
  node: 'nodeId',
  account: 'account',
  actor: 'actor',
  action: 'action',
  outcome: 'outcome',
  request: 'requestId',
} as const;

function time(v: unknown, name: string): Date | undefined {
  if (v === undefined || v === '') return undefined;
  const d = typeof v === 'string' && v.length <= 40 ? new Date(v) : new Date(NaN);
  if (Number.isNaN(d.getTime()))
    throw new FleetpassError('FP_INVALID_ARGUMENT', `${name} must be a date and time (ISO 8601)`);
  return d;
}

/** The audit filter from query or body fields; unknown fields are ignored, bad ones refused. */
export function auditFilterOf(q: Record<string, unknown>): AuditFilter {
  const f: AuditFilter = {};
  for (const [key, field] of Object.entries(TEXT_FILTERS)) {
    const v = q[key];
    if (v === undefined || v === '') continue;
    if (typeof v !== 'string' || v.length > 200)
      throw new FleetpassError('FP_INVALID_ARGUMENT', `the ${key} filter must be text of at most 200 characters`);
    f[field] = v.trim();
  }
  f.since = time(q.since, 'since');
  f.until = time(q.until, 'until');
  return f;
}

function positiveInt(v: unknown, name: string, max: number): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1 || n > max)
    throw new FleetpassError('FP_INVALID_ARGUMENT', `${name} must be a whole number from 1 to ${max}`);
  return n;
}

export function registerAuditRoutes(app: FastifyInstance, web: WebContext): void {
  const { service: admin } = web;

  app.get('/api/audit', async (req): Promise<AuditPageJson> => {
    const { principal } = web.auth(req, 'read');
    const q = req.query as Record<string, unknown>;
    const page = admin.queryAudit(principal, {
      filter: auditFilterOf(q),
      descending: true,
      beforeSeq: positiveInt(q.before, 'before', Number.MAX_SAFE_INTEGER),
      limit: positiveInt(q.limit, 'limit', 500) ?? 50,
    });
    return { records: page.records.map(auditRecordJson), nextCursor: page.nextCursor };
  });

  app.get('/api/audit/verify', async (req): Promise<VerifyJson> => {
    const { principal } = web.auth(req, 'read');
    const r = admin.verifyAudit(principal);
    return {
      ok: r.ok,
      total: r.total,
      verifiedThrough: r.verifiedThrough,
      brokenAt: r.brokenAt,
      problem: r.problem,
      checkpoints: r.checkpoints,
    };
  });

  // A POST (with the CSRF token) because an export is itself recorded in the audit log.
  app.post('/api/audit/export', async (req, reply) => {
    const { principal } = web.auth(req, 'change');
    const body = (req.body ?? {}) as { format?: unknown; filter?: Record<string, unknown> };
    const format = body.format;
    if (format !== 'csv' && format !== 'jsonl')
      throw new FleetpassError('FP_INVALID_ARGUMENT', 'the export format must be csv or jsonl');
    const chunks = admin.exportAudit(principal, { filter: auditFilterOf(body.filter ?? {}), format });
    const stamp = web.clock.now().toISOString().replace(/[:.]/g, '-').slice(0, 19);
    reply.headers({
      ...NO_STORE_HEADERS,
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'content-disposition': `attachment; filename="fleetpass-audit-${stamp}.${format === 'csv' ? 'csv' : 'jsonl'}"`,
    });
    return reply.send(Readable.from(chunks));
  });
}
