/**
 * Is the 128T service running? A password change made while it is stopped is lost when it starts (the SSR
 * rewrites the Linux passwords from its own store), so a reset is refused unless this says "active".
 * The command is configuration (default `systemctl is-active 128T`), run with execFile and no shell.
 */
import { execFile } from 'node:child_process';

export interface SsrServiceState {
  /** True only when the command exited 0 and printed "active". */
  readonly active: boolean;
  /** What the command printed (systemd unit state such as "inactive", "failed", "activating"), or "unknown". */
  readonly state: string;
}

const UNIT_STATE = /^[a-z][a-z-]{0,31}$/;

/** Runs the service check; never throws: a command that cannot run or times out reads as not active. */
export function checkSsrService(command: readonly string[], timeoutMs: number): Promise<SsrServiceState> {
  const [file, ...args] = command;
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 * 1024, env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' } }, (error, stdout) => {
      const first = String(stdout).trim().split('\n')[0] ?? '';
      const state = UNIT_STATE.test(first) ? first : 'unknown';
      // Fail closed: both the exit status and the printed state must say active.
      resolve({ active: !error && state === 'active', state });
    });
  });
}
