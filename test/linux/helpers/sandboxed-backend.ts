/**
 * Test-only client for backend-worker.ts: starts the real Linux backend inside a PAM sandbox and calls it
 * as if it ran on that node, with an optional injected "now" and config per call.
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FleetpassError, type ErrorCode } from '../../../shared/errors';
import type { PamSandbox } from '../../../shared/pam-sandbox';
import type { AccountState } from '../../../shared/gen/fleetpass/v1/common';
import type { ChangeResult } from '../../../agent/backends/backend';
import type { LinuxBackendConfigInput } from '../../../agent/backends/linux';
import type { WorkerRequest } from './backend-worker';

const REPO_ROOT = join(__dirname, '../../..');
const DATE_FIELDS = ['lockEnds', 'lastFailure', 'passwordChanged', 'passwordExpires', 'observed'] as const;

export interface CallOptions {
  readonly now?: Date;
  readonly config?: LinuxBackendConfigInput;
}

export interface SandboxedBackend {
  inspect(account: string, options?: CallOptions): Promise<AccountState>;
  unlock(account: string, options?: CallOptions): Promise<ChangeResult>;
  resetPassword(account: string, password: string, options?: CallOptions & { temporary?: boolean }): Promise<ChangeResult>;
  call(op: WorkerRequest['op'], account: string, extra?: Partial<WorkerRequest>): Promise<unknown>;
  /** Everything the worker wrote to stderr so far: the backend's pino log lines. */
  logs(): string;
  stop(): Promise<void>;
}

function reviveState(s: Record<string, unknown> | null | undefined): AccountState {
  const out = { ...(s ?? {}) } as Record<string, unknown>;
  for (const f of DATE_FIELDS) out[f] = typeof out[f] === 'string' ? new Date(out[f] as string) : undefined;
  return out as unknown as AccountState;
}

/** Starts the worker in `sb`; the first call waits for tsx to load (a few hundred ms). */
export function startSandboxedBackend(sb: PamSandbox): SandboxedBackend {
  const child = sb.spawn([process.execPath, '-r', 'tsx/cjs', join(__dirname, 'backend-worker.ts')], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const msg = JSON.parse(line) as { id: number; ok: boolean; result?: unknown; error?: { code: string; message: string; details?: Record<string, unknown> } };
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new FleetpassError(msg.error!.code as ErrorCode, msg.error!.message, { details: msg.error!.details }));
  });
  child.once('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`backend worker exited (${code}): ${stderr}`));
    pending.clear();
  });

  const call = (op: WorkerRequest['op'], account: string, extra: Partial<WorkerRequest> = {}): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.stdin!.write(`${JSON.stringify({ ...extra, id, op, account })}\n`);
    });
  const opts = (o?: CallOptions) => ({ now: o?.now?.toISOString(), config: o?.config });
  const change = (r: unknown): ChangeResult => {
    const c = r as { before: Record<string, unknown>; after: Record<string, unknown>; notes: string[] };
    return { before: reviveState(c.before), after: reviveState(c.after), notes: c.notes };
  };

  return {
    inspect: async (account, o) => reviveState((await call('inspect', account, opts(o))) as Record<string, unknown>),
    unlock: async (account, o) => change(await call('unlock', account, opts(o))),
    resetPassword: async (account, password, o) => change(await call('resetPassword', account, { ...opts(o), password, temporary: o?.temporary })),
    call,
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
