/** `fleetpass audit export --format csv|jsonl [--output FILE]`: the audit log (or a filtered part), streamed. */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { ExportFormat } from '../../../shared/gen/fleetpass/v1/admin';
import { runCommand, type GlobalOptions } from '../command-context';
import { UsageError } from '../output';
import { auditFilter, auditFilterOptions, type AuditFilterOptions } from './audit';

export function registerAuditExport(audit: Command, globals: () => GlobalOptions): void {
  auditFilterOptions(
    audit.command('export').description('export audit records as CSV or JSON Lines (every field, hashes included)'),
  )
    .requiredOption('--format <csv|jsonl>', 'csv or jsonl')
    .option('--output <file>', 'write to this file (mode 0600) instead of stdout')
    .action(async (_opts: unknown, cmd: Command) => {
      // The filter flags are also `audit`'s own, and commander hands them to whichever command it parses first.
      const opts = cmd.optsWithGlobals<AuditFilterOptions & { format: string; output?: string }>();
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const format =
          opts.format === 'csv'
            ? ExportFormat.EXPORT_FORMAT_CSV
            : opts.format === 'jsonl'
              ? ExportFormat.EXPORT_FORMAT_JSONL
              : undefined;
        if (!format) throw new UsageError('--format must be csv or jsonl');
        const api = ctx.api();
        const sink: NodeJS.WritableStream = opts.output
          ? createWriteStream(opts.output, { mode: 0o600 })
          : process.stdout;
        let bytes = 0;
        for await (const { chunk } of api.stream(api.client.exportAudit, {
          filter: auditFilter(opts, ctx.now()),
          format,
        })) {
          bytes += chunk.length;
          if (!sink.write(chunk)) await once(sink, 'drain');
        }
        if (opts.output) {
          sink.end();
          await once(sink, 'finish');
          ctx.out.error(`exported ${bytes} bytes to ${opts.output}`);
        }
        return 0;
      });
    });
}
