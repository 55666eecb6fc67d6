/**
 * `fleetpass audit verify`: the controller walks its hash chain; `--file EXPORT` walks an exported file
 * offline with the same code (controller/audit verify), so a missing record is found like an edited one.
 * A filtered export cannot be walked as a chain: with --partial every record is checked against its own
 * hash, and links where records are consecutive. Exit 1 when anything is broken, naming the record.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FleetpassError } from '../../../shared/errors';
import { detectExportFormat, parseAuditExport, type ExportFormat } from '../../audit/export-format';
import { hashAuditRecord } from '../../audit/canonical';
import { verifyRecords, type VerifyResult } from '../../audit/verify';
import type { AuditRecord } from '../../audit/audit-log';
import { runCommand, type CommandContext, type GlobalOptions } from '../command-context';
import { UsageError } from '../output';

/** Checks a partial export record by record. */
function verifyPartial(records: AuditRecord[]): { ok: boolean; brokenAt: number; problem: string } {
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (hashAuditRecord(r) !== r.hash)
      return {
        ok: false,
        brokenAt: r.seq,
        problem: `record ${r.seq} was altered: its content does not match its hash`,
      };
    const prev = records[i - 1];
    if (prev && prev.seq === r.seq - 1 && r.prevHash !== prev.hash)
      return { ok: false, brokenAt: r.seq, problem: `record ${r.seq} does not link to record ${prev.seq}` };
  }
  return { ok: true, brokenAt: 0, problem: '' };
}

function report(
  ctx: CommandContext,
  what: string,
  r: Pick<VerifyResult, 'ok' | 'total' | 'verifiedThrough' | 'brokenAt' | 'problem' | 'headHash'>,
  extra: Record<string, unknown> = {},
): number {
  if (ctx.json) ctx.out.json({ source: what, ...r, ...extra });
  else if (r.ok)
    ctx.out.line(
      `audit chain ok (${what}): ${r.total} records, verified through record ${r.verifiedThrough}, head ${r.headHash}`,
    );
  else ctx.out.line(`audit chain BROKEN (${what}) at record ${r.brokenAt}: ${r.problem} (records before it verified)`);
  if (!r.ok) ctx.out.error(`error FP_AUDIT_BROKEN: the audit chain is broken at record ${r.brokenAt}`);
  return r.ok ? 0 : 1;
}

export function registerAuditVerify(audit: Command, globals: () => GlobalOptions): void {
  audit
    .command('verify')
    .description("verify the audit hash chain: the controller's log, or an export file offline (--file)")
    .option('--file <export>', 'verify this CSV or JSON Lines export instead (no controller needed)')
    .option('--format <csv|jsonl>', 'the export format (default: from the content)')
    .option(
      '--partial',
      'the file is a filtered export: check each record, and links only where records are consecutive',
    )
    .action(async (opts: { file?: string; format?: string; partial?: boolean }) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        if (!opts.file) {
          const api = ctx.api();
          const r = await api.call(api.client.verifyAudit, {});
          return report(ctx, 'controller', {
            ...r,
            total: Number(r.total),
            verifiedThrough: Number(r.verifiedThrough),
            brokenAt: Number(r.brokenAt),
          });
        }
        if (opts.format && opts.format !== 'csv' && opts.format !== 'jsonl')
          throw new UsageError('--format must be csv or jsonl');
        let text: string;
        try {
          text = readFileSync(opts.file, 'utf8');
        } catch (e) {
          throw new FleetpassError('FP_AUDIT_EXPORT_INVALID', `cannot read ${opts.file}`, { cause: e });
        }
        const format = (opts.format as ExportFormat | undefined) ?? detectExportFormat(text);
        const records = parseAuditExport(text, format);
        if (!opts.partial) return report(ctx, opts.file, verifyRecords(records));
        const p = verifyPartial(records);
        const last = records[records.length - 1];
        if (!ctx.json && p.ok)
          ctx.out.line(
            `note: ${opts.file} was checked as a filtered export: each record against its own hash, links only between consecutive records`,
          );
        return report(
          ctx,
          opts.file,
          { ...p, total: records.length, verifiedThrough: p.ok ? (last?.seq ?? 0) : 0, headHash: last?.hash ?? '' },
          { partial: true },
        );
      });
    });
}
