/**
 * Is the instrument in use (e.g. a sequencing run)? Busy when the configured file exists, or when the
 * configured command exits 0 (exit 1 = idle). Anything else (timeout, crash, other exit) counts as busy:
 * a rotation that waits is harmless, one that interrupts a run is not. The command runs like every system
 * command (runCommand): the system PATH and C locale only, never the agent's environment (it may hold
 * FLEETPASS_* secrets), and its process group is killed (SIGKILL) at the timeout, so a hung check cannot
 * stall the operations queued behind it.
 */
import { existsSync } from 'node:fs';
import type { Logger } from '../shared/logger';
import { asFleetpassError } from '../shared/errors';
import { runCommand } from './backends/linux/run-command';
import type { AgentConfig } from './config';

export type BusyProbe = () => Promise<boolean>;

/** Builds the busy probe from `busyCheck`; with neither file nor command the node is never busy. */
export function createBusyProbe(config: AgentConfig['busyCheck'], log: Logger): BusyProbe {
  const plog = log.child({ component: 'busy' });
  return async () => {
    if (config.file && existsSync(config.file)) return true;
    if (!config.command) return false;
    const [cmd, ...args] = config.command;
    try {
      const { code } = await runCommand(cmd, args, { timeoutMs: config.timeoutSeconds * 1000, okCodes: [0, 1] });
      return code === 0;
    } catch (e) {
      const fe = asFleetpassError(e);
      plog.warn(
        { command: cmd, code: fe.code, exitCode: fe.details.exitCode, signal: fe.details.signal },
        'busy check failed; treating the node as busy',
      );
      return true;
    }
  };
}
