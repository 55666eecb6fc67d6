/** What every agent command shares: where output goes, which config file to read, and one-sentence errors. */
import { isFleetpassError } from '../../shared/errors';
import { DEFAULT_CONFIG_FILE } from '../config';

export interface CommandIo {
  /** A line for stdout. */
  out(line: string): void;
  /** A line for stderr. */
  err(line: string): void;
  readonly env: NodeJS.ProcessEnv;
}

/** Real stdout/stderr and process.env. */
export const processIo: CommandIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

/** --config, else $FLEETPASS_CONFIG, else /etc/fleetpass/agent.yaml. */
export function configFile(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.FLEETPASS_CONFIG ?? DEFAULT_CONFIG_FILE;
}

/** "error FP_CODE: sentence" for people; unknown errors never show their internals. */
export function errorLine(e: unknown): string {
  if (isFleetpassError(e)) return `error ${e.code}: ${e.message}`;
  return 'error FP_INTERNAL: an internal error occurred; run with FLEETPASS_LOG_LEVEL=debug and see the log';
}

export { shortDuration } from '../../shared/short-duration';
