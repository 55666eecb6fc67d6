/**
 * Is the 128T service running? A password change made while it is stopped is lost when it starts (the SSR
 * rewrites the Linux passwords from its own store), so a reset is refused unless this says "active".
 * The command is configuration (default `systemctl is-active 128T`), run like every system command
 * (runCommand): argv and no shell, the system PATH and C locale only, and SIGKILL at the timeout.
 */
import { runCommand } from '../linux/run-command';

export interface SsrServiceState {
  /** True only when the command exited 0 and printed "active". */
  readonly active: boolean;
  /** What the command printed (systemd unit state such as "inactive", "failed", "activating"), or "unknown". */
  readonly state: string;
}

const UNIT_STATE = /^[a-z][a-z-]{0,31}$/;
const UNKNOWN: SsrServiceState = { active: false, state: 'unknown' };

/** Runs the service check; never throws: a command that cannot run or times out reads as not active. */
export async function checkSsrService(command: readonly string[], timeoutMs: number): Promise<SsrServiceState> {
  const [file, ...args] = command;
  try {
    // Any exit code: systemctl says "inactive"/"failed" with exit 3, and that state is worth reporting.
    const { stdout, code } = await runCommand(file, args, { timeoutMs, okCodes: 'any' });
    const first = stdout.trim().split('\n')[0] ?? '';
    const state = UNIT_STATE.test(first) ? first : 'unknown';
    // Fail closed: both the exit status and the printed state must say active.
    return { active: code === 0 && state === 'active', state };
  } catch {
    return UNKNOWN;
  }
}
