/**
 * `fleetpass-controller [--config FILE]`: starts the controller on its embedded defaults (or the file,
 * FLEETPASS_CONFIG, and FLEETPASS_* environment), prints where its state lives and the CA fingerprint
 * agents pin, and shuts down cleanly on SIGTERM/SIGINT.
 * `fleetpass-controller verify-audit [--config FILE] [--database FILE] [--json]`: verifies the audit
 * chain of a data file (the live one or a backup) offline, read-only.
 * `fleetpass-controller bootstrap-admin --name N` / `operator-cert --name N --out-dir D`: local admin
 * commands (controller/admin/admin-commands.ts).
 * `fleetpass-controller escrow rotate-master-key --new-key-file F`: re-wraps escrow under a new master key
 * (controller/escrow/escrow-commands.ts).
 * Exit codes: 0 ok, 1 failed (or the chain is broken), 2 usage.
 */
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { isFleetpassError } from '../shared/errors';
import { createLogger } from '../shared/logger';
import { registerAdminCommands } from './admin/admin-commands';
import { verifyAudit } from './audit';
import { loadControllerConfig } from './config';
import { createController } from './controller';
import { registerEscrowCommands } from './escrow/escrow-commands';
import { openDatabase } from './store';
import { createStandardPlugins } from './standard-plugins';

async function run(opts: { config?: string }): Promise<number> {
  const { config, warnings, file } = loadControllerConfig({ file: opts.config ?? process.env.FLEETPASS_CONFIG });
  const log = createLogger({ level: config.log.level, name: 'fleetpass-controller' });
  for (const w of warnings) log.warn({ warning: w }, 'insecure setting');
  const { admin, web, list } = createStandardPlugins(config);
  const controller = createController(config, { log, plugins: list });

  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    stopping ??= controller.shutdown(signal);
    return stopping;
  };
  process.on('SIGTERM', () => void stop('SIGTERM').then(() => process.exit(0)));
  process.on('SIGINT', () => void stop('SIGINT').then(() => process.exit(0)));

  const started = await controller.start();
  console.log(`fleetpass controller running
  config:          ${file ?? '(embedded defaults)'}
  state folder:    ${config.stateDir}
  database:        ${config.database}
  agents connect:  ${started.agentAddress}
  admin API:       ${admin.address()}
  web console:     ${web.url()}
  CA certificate:  ${controller.context().paths.pkiDir}/ca.crt
  CA fingerprint:  ${started.caFingerprint}`);
  return new Promise<number>(() => undefined); // runs until a signal
}

function verify(opts: { config?: string; database?: string; checkpoints?: string; json?: boolean }): number {
  const { config } = loadControllerConfig({ file: opts.config ?? process.env.FLEETPASS_CONFIG });
  const database = opts.database ?? config.database;
  const checkpointFile = opts.checkpoints ?? join(config.stateDir, 'audit-checkpoints.log');
  const db = openDatabase(database, { readonly: true });
  try {
    const r = verifyAudit(db, { checkpointFile });
    if (opts.json) console.log(JSON.stringify({ database, checkpointFile, ...r }));
    else if (r.ok) console.log(`audit chain ok: ${r.total} records, ${r.checkpoints} checkpoint(s), head ${r.headHash}`);
    else console.log(`audit chain BROKEN at record ${r.brokenAt}: ${r.problem} (records 1 to ${r.verifiedThrough} verified)`);
    return r.ok ? 0 : 1;
  } finally {
    db.close();
  }
}

async function main(argv: string[]): Promise<number> {
  let result: Promise<number> | number = 0;
  const program = new Command('fleetpass-controller')
    .description('The fleetpass controller: fleet inventory, operation dispatch and the audit log.')
    .option('-c, --config <file>', 'configuration file (YAML or JSON); also FLEETPASS_CONFIG')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .action((opts: { config?: string }) => {
      result = run(opts);
    });
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
      result = verify(cmd.optsWithGlobals<{ config?: string; database?: string; checkpoints?: string; json?: boolean }>());
    });
  registerAdminCommands(program, (r) => {
    result = r;
  });
  registerEscrowCommands(program, (r) => {
    result = r;
  });
  try {
    program.parse(argv);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  return result;
}

main(process.argv).then(
  (code) => process.exit(code),
  (e) => {
    console.error(isFleetpassError(e) ? e.toString() : `FP_INTERNAL: ${(e as Error)?.message ?? String(e)}`);
    process.exit(1);
  },
);
