/** `fleetpass-agent run`: loads the config, starts the daemon, and drains it on SIGTERM/SIGINT. */
import { createLogger, type Logger } from '../../shared/logger';
import { asFleetpassError } from '../../shared/errors';
import { loadAgentConfig } from '../config';
import { createAgent } from '../daemon';
import { configFile, errorLine, type CommandIo } from './command-io';

export interface RunOptions {
  config?: string;
}

/** Runs until a stop signal; 0 after a clean drain, 1 when the agent cannot start. */
export async function runCommand(opts: RunOptions, io: CommandIo): Promise<number> {
  let loaded;
  try {
    loaded = loadAgentConfig({ file: configFile(opts.config, io.env), env: io.env });
  } catch (e) {
    io.err(errorLine(e));
    return 1;
  }
  const { config, warnings, file } = loaded;
  const log: Logger = createLogger({ level: io.env.FLEETPASS_LOG_LEVEL ?? config.log.level, name: 'fleetpass-agent' });
  installCrashLogging(log);
  // Before start: a stop signal while interrupted operations are being recovered must drain, not kill.
  const stopSignal = onStopSignal(log);
  for (const warning of warnings) log.warn({ warning }, 'insecure setting');
  log.info({ file }, 'config loaded');

  const agent = createAgent(config, { log });
  let startError: unknown;
  const started = agent.start().then(
    () => true,
    (e: unknown) => {
      startError = e;
      return false;
    },
  );
  const first = await Promise.race([started, stopSignal.then(() => 'signal' as const)]);
  if (first !== false) {
    log.info({ signal: await stopSignal }, 'stop requested; draining');
    // While starting, this waits for start to finish and then stops without connecting.
    await agent.shutdown();
  }
  if (!(await started)) {
    const fe = asFleetpassError(startError);
    log.error({ err: fe }, 'agent could not start');
    io.err(errorLine(fe));
    await agent.shutdown();
    return 1;
  }
  log.info('agent stopped');
  return 0;
}

/**
 * Resolves with the first SIGTERM/SIGINT. A second signal while draining is noted, not obeyed: an operation
 * must not be left half done.
 */
function onStopSignal(log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received: NodeJS.Signals | undefined;
    const handler = (signal: NodeJS.Signals) => {
      if (received) {
        log.warn({ signal }, 'already draining; waiting for the operation in flight');
        return;
      }
      received = signal;
      resolve(signal);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}

/** Crashes are logged through the redacting logger (errors never carry secrets), then the process exits 1. */
function installCrashLogging(log: Logger): void {
  const crash = (kind: string) => (err: unknown) => {
    log.fatal({ err: asFleetpassError(err) }, kind);
    process.exit(1);
  };
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('unhandledRejection', crash('unhandled rejection'));
}
