/**
 * The audit log for operators: search, export (the export itself is audited), verify the chain, the
 * fleet activity counts behind the console's chart, and the one way a transport records what it decided
 * about access (sign-ins, sign-outs, refused forgeries): fail closed, in its own transaction.
 */
import { FleetpassError } from '../../shared/errors';
import type { Principal } from '../access/authenticate';
import {
  verifyAudit,
  type AuditEntry,
  type AuditFilter,
  type AuditPage,
  type AuditQuery,
  type AuditRecord,
  type VerifyResult,
} from '../audit';
import { formatExport, type ExportFormat } from '../audit/export-format';
import { auditPageFor } from './audit-view';
import { createActivityReader, type ActivityCounts } from '../store/activity-repo';
import type { ServiceContext } from './context';

/** The access events a transport records itself: web sessions and refused (forged or throttled) requests. */
export type AccessEvent = AuditEntry & {
  action: 'web.signed_in' | 'web.signed_out' | 'web.session_ended' | 'web.signin_throttled' | 'access.denied';
};

export function auditService(ctx: ServiceContext) {
  const { store, rules } = ctx;
  const activity = createActivityReader({
    db: store.db,
    nodes: () => store.nodes.list({ includeRevoked: true }),
    clock: ctx.clock,
  });

  return {
    queryAudit(p: Principal, q: AuditQuery = {}): AuditPage {
      rules.authorize(p, 'audit.read', 'searching the audit log');
      return auditPageFor(p, ctx.audit.query(q));
    },
    /**
     * The audit log (or the filtered part) as text chunks, records up to the head when the export began.
     * Pages through the log rather than holding one cursor open, so writers are never blocked.
     */
    exportAudit(p: Principal, input: { filter?: AuditFilter; format: ExportFormat }): Iterable<string> {
      rules.authorize(p, 'audit.read', 'exporting the audit log');
      if (input.format !== 'csv' && input.format !== 'jsonl')
        throw new FleetpassError('FP_INVALID_ARGUMENT', 'the export format must be csv or jsonl');
      const filter = input.filter ?? {};
      const head = ctx.audited((a) => {
        a.append({ actor: p.name, action: 'audit.exported', outcome: 'ok', details: { format: input.format, filter } });
        return a.head().seq;
      });
      function* pages(): IterableIterator<AuditRecord> {
        let after = 0;
        for (;;) {
          const page = ctx.audit.query({ filter, afterSeq: after, limit: 1000 });
          for (const r of page.records) {
            if (r.seq > head) return;
            yield r;
          }
          if (!page.nextCursor) return;
          after = page.nextCursor;
        }
      }
      return formatExport(pages(), input.format);
    },
    verifyAudit(p: Principal): VerifyResult {
      rules.authorize(p, 'audit.read', 'verifying the audit log');
      return ctx.verifyAudit ? ctx.verifyAudit() : verifyAudit(store.db, { checkpointFile: ctx.checkpointFile });
    },
    /** Lockouts, resets and unlocks per UTC day and node over the last `days` (1-90) days. */
    fleetActivity(p: Principal, days: number): ActivityCounts {
      if (!Number.isInteger(days) || days < 1 || days > 90)
        throw new FleetpassError('FP_INVALID_ARGUMENT', 'days must be a whole number from 1 to 90');
      rules.authorize(p, 'fleet.read', 'reading fleet activity');
      rules.authorize(p, 'audit.read', 'reading fleet activity');
      return activity.read(days);
    },
    /** Records an access event a transport decided (FP_AUDIT_WRITE_FAILED when it cannot: fail closed). */
    recordAccessEvent(entry: AccessEvent): AuditRecord {
      return ctx.audited((a) => a.append(entry));
    },
  };
}
