/**
 * `fleetpass audit`: search the audit log by node, account, operator, action, outcome and time, a page at
 * a time (--limit, --after / --before); `audit export` and `audit verify` live in their own files.
 */
import type { Command } from 'commander';
import { AuditRecord, type AuditFilter } from '../../../shared/gen/fleetpass/v1/admin';
import { runCommand, type GlobalOptions } from '../command-context';
import { table, UsageError } from '../output';
import { parseDuration } from '../../../shared/parse-duration';
import { registerAuditExport } from './audit-export';
import { registerAuditVerify } from './audit-verify';

export interface AuditFilterOptions {
  node?: string;
  account?: string;
  operator?: string;
  action?: string;
  outcome?: string;
  request?: string;
  since?: string;
  until?: string;
}

/** Adds the filter flags to a command. */
export function auditFilterOptions(cmd: Command): Command {
  return cmd
    .option('--node <id>', 'records about this node')
    .option('--account <name>', 'records about this account')
    .option('--operator <name>', 'records by this actor (an operator, "controller", "node:<id>")')
    .option('--action <action>', 'this action, or a prefix ending in * (e.g. "operation.*", "access.denied")')
    .option('--outcome <outcome>', 'this outcome (e.g. succeeded, failed, refused)')
    .option('--request <id>', 'records of this change request')
    .option('--since <time>', 'from this time (ISO 8601) or this long ago (e.g. 24h, 7d)')
    .option('--until <time>', 'before this time (ISO 8601) or this long ago');
}

function parseTime(text: string, option: string, now: Date): Date {
  if (/^\d+[smhdw]$/.test(text.trim())) return new Date(now.getTime() - parseDuration(text, option) * 1000);
  const d = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim()) || Number.isNaN(d.getTime()))
    throw new UsageError(
      `${option} must be an ISO 8601 time (2026-03-01 or 2026-03-01T12:00:00Z) or an age like 24h, got ${JSON.stringify(text)}`,
    );
  return d;
}

/** The proto filter for the flags. */
export function auditFilter(o: AuditFilterOptions, now: Date): AuditFilter {
  return {
    nodeId: o.node ?? '',
    account: o.account ?? '',
    actor: o.operator ?? '',
    action: o.action ?? '',
    outcome: o.outcome ?? '',
    requestId: o.request ?? '',
    since: o.since ? parseTime(o.since, '--since', now) : undefined,
    until: o.until ? parseTime(o.until, '--until', now) : undefined,
  };
}

function cursor(text: string | undefined, option: string): number {
  if (text === undefined) return 0;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${option} must be a record number`);
  return n;
}

export function registerAudit(program: Command, globals: () => GlobalOptions): void {
  const audit = auditFilterOptions(
    program.command('audit').description('search the audit log (oldest first; --desc for newest first)'),
  )
    .option('--limit <n>', 'records per page (default 50, at most 1000)', '50')
    .option('--after <seq>', 'records after this record number (the next page)')
    .option('--desc', 'newest first')
    .option('--before <seq>', 'with --desc: records before this record number')
    .action(async (opts: AuditFilterOptions & { limit: string; after?: string; before?: string; desc?: boolean }) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be 1 to 1000');
        const api = ctx.api();
        const page = await api.call(api.client.queryAudit, {
          filter: auditFilter(opts, ctx.now()),
          limit,
          afterSeq: cursor(opts.after, '--after'),
          beforeSeq: cursor(opts.before, '--before'),
          descending: Boolean(opts.desc),
        });
        if (ctx.json) {
          ctx.out.json({ records: page.records.map((r) => AuditRecord.toJSON(r)), nextCursor: page.nextCursor });
          return 0;
        }
        if (page.records.length === 0) {
          ctx.out.line('no matching audit records');
          return 0;
        }
        ctx.out.line(
          table(
            ['#', 'time', 'actor', 'action', 'node', 'account', 'outcome', 'reason / details'],
            page.records.map((r) => [
              r.seq,
              r.time?.toISOString().replace('T', ' ').slice(0, 19) ?? '-',
              r.actor,
              r.action,
              r.nodeId || '-',
              r.account || '-',
              r.outcome || '-',
              [r.reason, r.detailsJson !== '{}' ? r.detailsJson : ''].filter(Boolean).join(' ').slice(0, 120) || '-',
            ]),
          ),
        );
        if (page.nextCursor) ctx.out.line(`more: add ${opts.desc ? '--before' : '--after'} ${page.nextCursor}`);
        return 0;
      });
    });
  registerAuditExport(audit, globals);
  registerAuditVerify(audit, globals);
}
