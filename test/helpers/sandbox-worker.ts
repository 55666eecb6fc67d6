/**
 * TEST ONLY: runs a backend INSIDE a PAM sandbox as a worker process (`node -r tsx/cjs`, started with
 * sb.spawn) so its commands act on the sandbox as they would on a node, and calls it from the test. One
 * JSON request per stdin line, one JSON response per stdout line, the backend's pino log on stderr. Both
 * ends of that protocol live here; each backend's worker file says only how to handle a request.
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FleetpassError, isFleetpassError, type ErrorCode } from '../../shared/errors';
import type { PamSandbox } from '../../shared/pam-sandbox';
import type { AccountState } from '../../shared/gen/fleetpass/v1/common';
import type { ChangeResult } from '../../agent/backends/backend';

const REPO_ROOT = join(__dirname, '../..');
const DATE_FIELDS = ['lockEnds', 'lastFailure', 'passwordChanged', 'passwordExpires', 'observed'] as const;

interface WorkerResponse {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string; details?: Record<string, unknown> };
}

/** Worker side: answers each request line with `handle` (a FleetpassError keeps its code); exits when stdin closes. */
export function serveRequests<R extends { id: number }>(handle: (req: R) => Promise<unknown>): void {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const req = JSON.parse(line) as R;
    handle(req).then(
      (result) => process.stdout.write(`${JSON.stringify({ id: req.id, ok: true, result: result ?? null })}\n`),
      (e: unknown) => {
        const error = isFleetpassError(e)
          ? { code: e.code, message: e.message, details: e.details }
          : { code: 'UNEXPECTED', message: String((e as Error)?.stack ?? e) };
        process.stdout.write(`${JSON.stringify({ id: req.id, ok: false, error })}\n`);
      },
    );
  });
  rl.on('close', () => process.exit(0));
}

export interface SandboxWorker<R extends { id: number }> {
  /** Sends one request; rejects with the worker's FleetpassError, or when the worker exits first. */
  call(req: Omit<R, 'id'>): Promise<unknown>;
  /** Everything the worker wrote to stderr so far: the backend's pino log lines. */
  logs(): string;
  stop(): Promise<void>;
}

/** Test side: starts `workerFile` in `sb`; the first call waits for tsx to load (a few hundred ms). */
export function startSandboxWorker<R extends { id: number }>(
  sb: PamSandbox,
  workerFile: string,
  name: string,
): SandboxWorker<R> {
  const child = sb.spawn([process.execPath, '-r', 'tsx/cjs', workerFile], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const msg = JSON.parse(line) as WorkerResponse;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else
      p.reject(new FleetpassError(msg.error!.code as ErrorCode, msg.error!.message, { details: msg.error!.details }));
  });
  child.once('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`${name} exited (${code}): ${stderr}`));
    pending.clear();
  });

  return {
    call: (req) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.stdin!.write(`${JSON.stringify({ ...req, id })}\n`);
      }),
    logs: () => stderr,
    stop: async () => {
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin!.end();
      });
    },
  };
}

/** An AccountState as it came over JSON, with its dates made Dates again. */
export function reviveState(s: unknown): AccountState {
  const out = { ...((s as Record<string, unknown> | null | undefined) ?? {}) };
  for (const f of DATE_FIELDS) out[f] = typeof out[f] === 'string' ? new Date(out[f] as string) : undefined;
  return out as unknown as AccountState;
}

/** A ChangeResult as it came over JSON. */
export function reviveChange(r: unknown): ChangeResult {
  const c = r as { before: unknown; after: unknown; notes: string[] };
  return { before: reviveState(c.before), after: reviveState(c.after), notes: c.notes };
}
