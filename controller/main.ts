/**
 * `fleetpass-controller [--config FILE]`: starts the controller on its embedded defaults (or the file,
 * FLEETPASS_CONFIG, and FLEETPASS_* environment), prints where its state lives and the CA fingerprint
 * agents pin, and shuts down cleanly on SIGTERM/SIGINT. Exit codes: 0 stopped, 1 failed, 2 usage.
 */
import { Command, CommanderError } from 'commander';
import { isFleetpassError } from '../shared/errors';
import { createLogger } from '../shared/logger';
import { loadControllerConfig } from './config';
import { createController } from './controller';

async function main(argv: string[]): Promise<number> {
  const program = new Command('fleetpass-controller')
    .description('The fleetpass controller: fleet inventory, operation dispatch and the audit log.')
    .option('-c, --config <file>', 'configuration file (YAML or JSON); also FLEETPASS_CONFIG')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  const opts = program.opts<{ config?: string }>();
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
  CA certificate:  ${controller.context().paths.pkiDir}/ca.crt
  CA fingerprint:  ${started.caFingerprint}`);
  return new Promise<number>(() => undefined); // runs until a signal
}

main(process.argv).then(
  (code) => process.exit(code),
  (e) => {
    console.error(isFleetpassError(e) ? e.toString() : `FP_INTERNAL: ${(e as Error)?.message ?? String(e)}`);
    process.exit(1);
  },
);
