/**
 * `fleetpass-controller verify-audit [--config FILE] [--database FILE] [--checkpoints FILE] [--public-key VKEY]
 * [--json]`: verifies the audit chain and its signed checkpoints of a data file (the live one or a backup)
 * offline, read-only. Exit 0 when the
 * chain holds, 1 when it is broken (naming the record).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { verifyAudit } from '../audit';
import { readVerifierKey } from '../audit/signing-key';
import { loadControllerConfig } from '../config';
import { openDatabase } from '../store';
import type { SetResult } from './local-command';

interface VerifyOpts {
  config?: string;
  database?: string;
  checkpoints?: string;
  publicKey?: string;
  json?: boolean;
}

function verify(opts: VerifyOpts): number {
  const { config } = loadControllerConfig({ file: opts.config ?? process.env.FLEETPASS_CONFIG });
  const database = opts.database ?? config.database;
  const checkpointFile = opts.checkpoints ?? join(config.stateDir, 'audit-checkpoints.log');
  // The signed checkpoints are checked with the public key given, or the one beside the signing key.
  const vkey = opts.publicKey ?? join(config.stateDir, 'audit-signing.vkey');
  const verifier = opts.publicKey || existsSync(vkey) ? readVerifierKey(vkey) : undefined;
  const db = openDatabase(database, { readonly: true });
  try {
    const r = verifyAudit(db, { checkpointFile, verifier });
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
    .option('--public-key <vkey>', 'the audit public key (default: <stateDir>/audit-signing.vkey)')
    .option('--json', 'print the result as JSON')
    .exitOverride()
    .action((_opts: unknown, cmd: Command) => {
      // -c after the subcommand is parsed as the program's option: read both levels.
      setResult(verify(cmd.optsWithGlobals<VerifyOpts>()));
    });
}
