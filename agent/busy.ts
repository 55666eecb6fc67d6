/**
 * Is the instrument in use (e.g. a sequencing run)? Busy when the configured file exists, or when the
 * configured command exits 0 (exit 1 = idle). Anything else (timeout, crash, other exit) counts as busy:
 * a rotation that waits is harmless, one that interrupts a run is not.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Logger } from '../shared/logger';
import type { AgentConfig } from './config';

export type BusyProbe = () => Promise<boolean>;

/** Builds the busy probe from `busyCheck`; with neither file nor command the node is never busy. */
export function createBusyProbe(config: AgentConfig['busyCheck'], log: Logger): BusyProbe {
  const plog = log.child({ component: 'busy' });
  return async () => {
    if (config.file && existsSync(config.file)) return true;
    if (!config.command) return false;
    const [cmd, ...args] = config.command;
    return new Promise<boolean>((resolve) => {
      execFile(cmd, args, { timeout: config.timeoutSeconds * 1000, shell: false, windowsHide: true }, (err) => {
        if (!err) return resolve(true);
        const code: unknown = (err as { code?: unknown }).code;
        if (code === 1) return resolve(false);
        plog.warn({ command: cmd, exitCode: code, killed: (err as { killed?: boolean }).killed ?? false }, 'busy check failed; treating the node as busy');
        resolve(true);
      });
    });
  };
}
