/**
 * `fleetpass-controller [--config FILE]`: starts the controller on its embedded defaults (or the file,
 * FLEETPASS_CONFIG, and FLEETPASS_* environment), prints where its state lives and the CA fingerprint
 * agents pin, and shuts down cleanly on SIGTERM/SIGINT.
 * `fleetpass-controller verify-audit [--config FILE] [--database FILE] [--json]`: verifies the audit
 * chain of a data file (the live one or a backup) offline, read-only.
 * `fleetpass-controller bootstrap-admin --name N` / `operator-cert --name N --out-dir D` /
 * `escrow rotate-master-key --new-key-file F`: local commands on the controller host, one file each
 * under controller/commands/.
 * Exit codes: 0 ok, 1 failed (or the chain is broken), 2 usage.
 */
import { Command, CommanderError } from 'commander';
import { isFleetpassError } from '../shared/errors';
import { createLogger } from '../shared/logger';
import { registerLocalCommands } from './commands';
import { loadControllerConfig } from './config';
import { createController } from './controller';

async function run(opts: { config?: string }): Promise<number> {
  const { config, warnings, file } = loadControllerConfig({ file: opts.config ?? process.env.FLEETPASS_CONFIG });
  const log = createLogger({ level: config.log.level, name: 'fleetpass-controller' });
  for (const w of warnings) log.warn({ warning: w }, 'insecure setting');
  const controller = createController(config, { log });

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
  admin API:       ${started.adminAddress}
  web console:     ${started.webUrl ?? '(off: web.enabled is false)'}
  metrics:         ${controller.context().integrations.metricsUrl() ?? 'off'}/metrics   (also /healthz, /readyz)
  CA certificate:  ${controller.context().paths.pkiDir}/ca.crt
  CA fingerprint:  ${started.caFingerprint}`);
  return new Promise<number>(() => undefined); // runs until a signal
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
  registerLocalCommands(program, (r) => {
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
