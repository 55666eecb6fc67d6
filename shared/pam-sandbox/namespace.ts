/**
 * A private mount namespace kept alive by a keeper process (`unshare --mount --propagation private --
 * cat`, which exits when our end of its stdin closes, so a crashed parent leaves nothing running), and
 * the means to run commands inside it with `nsenter --target PID --mount`. Every mount goes through a
 * guard that proves the target namespace is not ours, so a setup mistake can never mount over the host.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { FleetpassError } from '../errors';

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

export interface ExecOptions {
  /** Written to stdin, then closed (passwords go here, never in argv). */
  readonly input?: string;
  readonly timeoutMs?: number;
  /** Working directory inside the namespace (default: this process's cwd, which the sandbox shares). */
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export interface Keeper {
  readonly pid: number;
  readonly child: ChildProcess;
}

const DEFAULT_EXEC_TIMEOUT_MS = 30_000;

function mountNamespaceOf(pid: number | 'self'): string {
  return readlinkSync(`/proc/${pid}/ns/mnt`);
}

/** Throws unless `pid` lives in a mount namespace other than this process's. */
export function assertPrivateNamespace(pid: number): void {
  let theirs: string;
  try {
    theirs = mountNamespaceOf(pid);
  } catch (e) {
    throw new FleetpassError('FP_PAM_SANDBOX_UNAVAILABLE', `the sandbox keeper (pid ${pid}) is gone`, { cause: e });
  }
  if (theirs === mountNamespaceOf('self')) {
    throw new FleetpassError(
      'FP_PAM_SANDBOX_UNAVAILABLE',
      `pid ${pid} shares the host mount namespace; refusing to change anything`,
    );
  }
}

/** Starts the keeper and resolves once it is inside its own mount namespace. */
export async function startKeeper(timeoutMs = 5_000): Promise<Keeper> {
  const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'cat'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited (${signal ?? code})`;
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const deadline = Date.now() + timeoutMs;
  const hostNs = mountNamespaceOf('self');
  for (;;) {
    const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(r, 2, undefined))]);
    if (failed)
      throw new FleetpassError('FP_PAM_SANDBOX_UNAVAILABLE', `cannot start unshare: ${failed.message}`, {
        cause: failed,
      });
    if (exited)
      throw new FleetpassError('FP_PAM_SANDBOX_UNAVAILABLE', `unshare ${exited}: ${stderr.trim() || 'no message'}`);
    if (child.pid !== undefined) {
      try {
        // unshare(2) happens before exec; once the link differs, the keeper is in its own namespace.
        if (mountNamespaceOf(child.pid) !== hostNs) break;
      } catch {
        // /proc entry not there yet
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new FleetpassError('FP_PAM_SANDBOX_UNAVAILABLE', 'unshare did not enter a new mount namespace in time');
    }
  }
  // The keeper must not hold the parent's event loop open; closing our end of its stdin ends it.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  return { pid: child.pid!, child };
}

function nsenterArgs(pid: number, argv: readonly string[], cwd: string): string[] {
  if (argv.length === 0) throw new FleetpassError('FP_INVALID_ARGUMENT', 'an empty command cannot run in the sandbox');
  return ['--target', String(pid), '--mount', `--wd=${cwd}`, '--', ...argv];
}

/** Runs `argv` inside the namespace of `pid`; resolves with the exit code (non-zero is not an error). */
export async function nsExec(pid: number, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  assertPrivateNamespace(pid);
  const timeoutMs = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = execFile(
      'nsenter',
      nsenterArgs(pid, argv, options.cwd ?? process.cwd()),
      {
        env: options.env ?? process.env,
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr, code: 0 });
        if (typeof error.code === 'number') return resolve({ stdout, stderr, code: error.code });
        const name = argv[0];
        if (error.killed) {
          return reject(
            new FleetpassError('FP_COMMAND_TIMEOUT', `"${name}" did not finish within ${timeoutMs} ms in the sandbox`, {
              details: { command: name },
            }),
          );
        }
        reject(
          new FleetpassError('FP_COMMAND_FAILED', `"${name}" could not run in the sandbox: ${error.message}`, {
            cause: error,
            details: { command: name },
          }),
        );
      },
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

/** Runs `argv` inside the namespace and throws FP_COMMAND_FAILED (with its stderr) unless it exits 0. */
export async function nsExecOk(pid: number, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const r = await nsExec(pid, argv, options);
  if (r.code !== 0) {
    throw new FleetpassError(
      'FP_COMMAND_FAILED',
      `"${argv[0]}" failed in the sandbox (exit code ${r.code}): ${r.stderr.trim().split('\n')[0] ?? ''}`,
      {
        details: { command: argv[0], exitCode: r.code },
      },
    );
  }
  return r;
}

/** Starts a long-lived process inside the namespace (nsenter execs it, so the child's pid is the program's). */
export function nsSpawn(pid: number, argv: readonly string[], options: SpawnOptions = {}): ChildProcess {
  assertPrivateNamespace(pid);
  const cwd = typeof options.cwd === 'string' ? options.cwd : process.cwd();
  return spawn('nsenter', nsenterArgs(pid, argv, cwd), { ...options, cwd });
}
