/**
 * Runs one system command the safe way: execFile with an argv array (never a shell), a fixed PATH and
 * C locale, a hard timeout, and secrets only on stdin. Neither stdin nor a redacted string ever reaches
 * an error; failures become FP_COMMAND_FAILED / FP_COMMAND_TIMEOUT naming the command.
 */
import { execFile, type ExecFileException } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { FleetpassError } from '../../../shared/errors';

/** The only PATH commands see: system directories, so a writable directory in the agent's PATH cannot shadow them. */
export const COMMAND_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_COMMAND_TIMEOUT_MS = 15_000;
const MAX_OUTPUT_BYTES = 1024 * 1024;
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
  /** Exit codes that are not failures (default: only 0). */
  readonly okCodes?: readonly number[];
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

/** Runs `command args...` and resolves with its output; rejects with a FleetpassError that names only the command. */
export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  if (command.length === 0 || (command.includes('/') && !command.startsWith('/'))) {
    return Promise.reject(new FleetpassError('FP_INTERNAL', 'a command must be a bare name or an absolute path'));
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const okCodes = options.okCodes ?? [0];
  const name = command.split('/').pop() ?? command;
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      [...args],
      {
        env: { PATH: COMMAND_PATH, LC_ALL: 'C', LANG: 'C' },
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: MAX_OUTPUT_BYTES,
        encoding: 'utf8',
        windowsHide: true,
      },
      (error: ExecFileException | null, stdout: string, stderr: string) => {
        const code = typeof error?.code === 'number' ? error.code : error ? -1 : 0;
        if (!error || (typeof error.code === 'number' && okCodes.includes(error.code))) {
          resolve({ stdout, stderr, code });
          return;
        }
        const shown = scrubOutput(stderr || stdout, options.redact);
        const details = { command: name, exitCode: code, signal: error.signal ?? undefined, stderr: shown };
        if (error.code === 'ENOENT') {
          reject(new FleetpassError('FP_COMMAND_FAILED', `the command "${name}" is not installed on this node`, { details }));
        } else if (error.killed && error.code !== 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
          reject(new FleetpassError('FP_COMMAND_TIMEOUT', `the command "${name}" did not finish within ${timeoutMs} ms and was stopped`, { details }));
        } else {
          const why = typeof error.code === 'number' ? `exit code ${error.code}` : error.signal ? `signal ${error.signal}` : String(error.code);
          reject(new FleetpassError('FP_COMMAND_FAILED', `the command "${name}" failed (${why})${shown ? `: ${shown.split('\n')[0]}` : ''}`, { details }));
        }
      },
    );
    // A command that exits without reading stdin closes the pipe; that is its business, not an error here.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
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
