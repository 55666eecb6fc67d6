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

/** "9m 12s", "2h 5m", "3d 4h". */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
