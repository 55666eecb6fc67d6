/**
 * `fleetpass-controller verify-audit [--config FILE] [--database FILE] [--checkpoints FILE] [--json]`:
 * verifies the audit chain of a data file (the live one or a backup) offline, read-only. Exit 0 when the
 * chain holds, 1 when it is broken (naming the record).
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { verifyAudit } from '../audit';
import { loadControllerConfig } from '../config';
import { openDatabase } from '../store';
import type { SetResult } from './local-command';

function verify(opts: { config?: string; database?: string; checkpoints?: string; json?: boolean }): number {
  const { config } = loadControllerConfig({ file: opts.config ?? process.env.FLEETPASS_CONFIG });
  const database = opts.database ?? config.database;
  const checkpointFile = opts.checkpoints ?? join(config.stateDir, 'audit-checkpoints.log');
  const db = openDatabase(database, { readonly: true });
  try {
    const r = verifyAudit(db, { checkpointFile });
    if (opts.json) console.log(JSON.stringify({ database, checkpointFile, ...r }));
    else if (r.ok)
      console.log(`audit chain ok: ${r.total} records, ${r.checkpoints} checkpoint(s), head ${r.headHash}`);
    else
      console.log(
        `audit chain BROKEN at record ${r.brokenAt}: ${r.problem} (records 1 to ${r.verifiedThrough} verified)`,
      );
    return r.ok ? 0 : 1;
  } finally {
    db.close();
  }
}

export function registerVerifyAudit(program: Command, setResult: SetResult): void {
  program
    .command('verify-audit')
    .description('verify the audit hash chain and checkpoints of a data file, read-only')
    .option('-c, --config <file>', 'configuration file (YAML or JSON); also FLEETPASS_CONFIG')
    .option('--database <file>', 'the data file to check (default: the configured one)')
    .option('--checkpoints <file>', 'the checkpoint file (default: <stateDir>/audit-checkpoints.log)')
    .option('--json', 'print the result as JSON')
    .exitOverride()
    .action((_opts: unknown, cmd: Command) => {
      // -c after the subcommand is parsed as the program's option: read both levels.
      setResult(
        verify(cmd.optsWithGlobals<{ config?: string; database?: string; checkpoints?: string; json?: boolean }>()),
      );
    });
}
