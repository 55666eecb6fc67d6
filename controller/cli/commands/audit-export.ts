/** `fleetpass audit export --format csv|jsonl [--output FILE [--force]]`: the audit log (or a filtered part), streamed. */
import { createWriteStream, fchmodSync, openSync } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { FleetpassError } from '../../../shared/errors';
import { ExportFormat } from '../../../shared/gen/fleetpass/v1/admin';
import { runCommand, type GlobalOptions } from '../command-context';
import { UsageError } from '../output';
import { auditFilter, auditFilterOptions, type AuditFilterOptions } from './audit';

export function registerAuditExport(audit: Command, globals: () => GlobalOptions): void {
  auditFilterOptions(
    audit.command('export').description('export audit records as CSV or JSON Lines (every field, hashes included)'),
  )
    .requiredOption('--format <csv|jsonl>', 'csv or jsonl')
    .option('--output <file>', 'write to this new file (mode 0600) instead of stdout')
    .option('--force', 'with --output: replace the file if it exists')
    .action(async (_opts: unknown, cmd: Command) => {
      // The filter flags are also `audit`'s own, and commander hands them to whichever command it parses first.
      const opts = cmd.optsWithGlobals<AuditFilterOptions & { format: string; output?: string; force?: boolean }>();
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const format =
          opts.format === 'csv'
            ? ExportFormat.EXPORT_FORMAT_CSV
            : opts.format === 'jsonl'
              ? ExportFormat.EXPORT_FORMAT_JSONL
              : undefined;
        if (!format) throw new UsageError('--format must be csv or jsonl');
        // Opened before the controller is asked, so a refused file leaves no audit.exported record behind.
        const sink: NodeJS.WritableStream = opts.output ? openOutput(opts.output, Boolean(opts.force)) : process.stdout;
        const api = ctx.api();
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

/** Opens FILE for the export: a new file unless `force`, and mode 0600 either way (an old file keeps no wider mode). */
function openOutput(file: string, force: boolean): NodeJS.WritableStream {
  let fd: number;
  try {
    fd = openSync(file, force ? 'w' : 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new FleetpassError(
        'FP_OUTPUT_EXISTS',
        `${file} already exists; choose another file or pass --force to replace it`,
      );
    throw e;
  }
  fchmodSync(fd, 0o600);
  return createWriteStream('', { fd });
}
