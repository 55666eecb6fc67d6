/**
 * Runs one system command the safe way: spawn with an argv array (never a shell), a fixed PATH and
 * C locale (nothing else of the agent's environment, which may hold FLEETPASS_* secrets), a hard timeout,
 * and secrets only on stdin. Neither stdin nor a redacted string ever reaches an error; failures become
 * FP_COMMAND_FAILED / FP_COMMAND_TIMEOUT naming the command.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FleetpassError } from '../../../shared/errors';

/** The only PATH commands see: system directories, so a writable directory in the agent's PATH cannot shadow them. */
export const COMMAND_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_COMMAND_TIMEOUT_MS = 15_000;
const MAX_OUTPUT_BYTES = 1024 * 1024;
/** After the kill at the timeout, how long a grandchild may keep the output pipes open before they are cut. */
const PIPE_GRACE_MS = 500;
const SHOWN_STDERR_CHARS = 300;

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

export interface RunOptions {
  /** Written to stdin, then stdin is closed. May be a secret: it never appears in an error or a log. */
  readonly input?: string;
  readonly timeoutMs?: number;
  /** Exit codes that are not failures (default: only 0); 'any' resolves with whatever code the command exits with. */
  readonly okCodes?: readonly number[] | 'any';
  /** Strings (e.g. the new password) removed from any output that is copied into an error. */
  readonly redact?: readonly string[];
}

/** The signature primitives take, so a caller can bind a timeout once. */
export type CommandRunner = (command: string, args: readonly string[], options?: RunOptions) => Promise<CommandResult>;

/** Replaces every redacted string in `text` and cuts it to a length fit for an error message. */
export function scrubOutput(text: string, redact: readonly string[] = []): string {
  let out = text;
  for (const secret of redact) {
    if (secret.length > 0) out = out.split(secret).join('[redacted]');
  }
  out = out.trim();
  return out.length > SHOWN_STDERR_CHARS ? `${out.slice(0, SHOWN_STDERR_CHARS)}...` : out;
}

/**
 * Runs `command args...` and resolves with its output; rejects with a FleetpassError that names only the command.
 * At the timeout the command's whole process group gets SIGKILL (a command may ignore SIGTERM, or leave a child
 * holding its output open), so the promise always settles shortly after `timeoutMs`.
 */
export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  if (command.length === 0 || (command.includes('/') && !command.startsWith('/'))) {
    return Promise.reject(new FleetpassError('FP_INTERNAL', 'a command must be a bare name or an absolute path'));
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const okCodes = options.okCodes ?? [0];
  const isOk = (code: number): boolean => okCodes === 'any' || okCodes.includes(code);
  const name = command.split('/').pop() ?? command;
  return new Promise((resolve, reject) => {
    // spawn, not execFile: execFile cannot start the command in its own process group.
    const child = spawn(command, [...args], {
      env: { PATH: COMMAND_PATH, LC_ALL: 'C', LANG: 'C' },
      // Its own process group, so the timeout can kill everything it started.
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const out = collect(child.stdout, () => stop('overflow'));
    const err = collect(child.stderr, () => stop('overflow'));
    let stopped: 'timeout' | 'overflow' | undefined;
    let spawnError: NodeJS.ErrnoException | undefined;
    const timers: NodeJS.Timeout[] = [];

    function stop(why: 'timeout' | 'overflow'): void {
      if (stopped) return;
      // Exited right at the deadline (its pipes not yet closed): not a timeout.
      if (why === 'overflow' || (child.exitCode === null && child.signalCode === null)) stopped = why;
      if (child.pid !== undefined) killGroup(child.pid);
      // A grandchild that left the group may still hold stdout/stderr; cut them so 'close' comes.
      timers.push(
        setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
        }, PIPE_GRACE_MS),
      );
    }

    timers.push(setTimeout(() => stop('timeout'), timeoutMs));
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError ??= e;
    });
    child.on('close', (exit: number | null, signal: NodeJS.Signals | null) => {
      for (const t of timers) clearTimeout(t);
      const stdout = out.text();
      const stderr = err.text();
      const code = exit ?? -1;
      if (!stopped && !spawnError && exit !== null && isOk(exit)) {
        resolve({ stdout, stderr, code });
        return;
      }
      const shown = scrubOutput(stderr || stdout, options.redact);
      const details = { command: name, exitCode: code, signal: signal ?? undefined, stderr: shown };
      if (stopped === 'timeout') {
        reject(
          new FleetpassError(
            'FP_COMMAND_TIMEOUT',
            `the command "${name}" did not finish within ${timeoutMs} ms and was stopped`,
            { details },
          ),
        );
      } else if (spawnError?.code === 'ENOENT') {
        reject(
          new FleetpassError('FP_COMMAND_FAILED', `the command "${name}" is not installed on this node`, { details }),
        );
      } else {
        const why =
          stopped === 'overflow'
            ? `it printed more than ${MAX_OUTPUT_BYTES} bytes`
            : spawnError
              ? String(spawnError.code ?? spawnError.message)
              : exit !== null
                ? `exit code ${exit}`
                : `signal ${signal}`;
        reject(
          new FleetpassError(
            'FP_COMMAND_FAILED',
            `the command "${name}" failed (${why})${shown ? `: ${shown.split('\n')[0]}` : ''}`,
            { details },
          ),
        );
      }
    });
    // A command that exits without reading stdin closes the pipe; that is its business, not an error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Buffers a command's output stream up to MAX_OUTPUT_BYTES; `onOverflow` runs once when it goes past. */
function collect(stream: Readable, onOverflow: () => void): { text(): string } {
  const chunks: Buffer[] = [];
  let bytes = 0;
  stream.on('data', (chunk: Buffer) => {
    if (bytes > MAX_OUTPUT_BYTES) return;
    bytes += chunk.length;
    if (bytes > MAX_OUTPUT_BYTES) onOverflow();
    else chunks.push(chunk);
  });
  stream.on('error', () => undefined);
  return { text: () => Buffer.concat(chunks).toString('utf8') };
}

/** SIGKILL to the process group led by `pid` (the command and its children); the group may already be gone. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the command and its children have exited
  }
}

/** Binds a timeout to runCommand, the runner the Linux primitives use. */
export function commandRunner(timeoutMs: number): CommandRunner {
  return (command, args, options) => runCommand(command, args, { timeoutMs, ...options });
}

/** The absolute path of `name` in COMMAND_PATH when it is installed and executable, else undefined. */
export function findCommand(name: string): string | undefined {
  for (const dir of COMMAND_PATH.split(':')) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
