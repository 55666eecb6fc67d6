/** Test-only client for ssr-backend-worker.ts: the SSR backend running on a sandboxed "router node". */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FleetpassError, type ErrorCode } from '../../../shared/errors';
import type { PamSandbox } from '../../../shared/pam-sandbox';
import type { AccountState } from '../../../shared/gen/fleetpass/v1/common';
import type { ChangeResult } from '../../../agent/backends/backend';
import type { SsrBackendConfigInput } from '../../../agent/backends/ssr';
import type { SsrWorkerRequest } from './ssr-backend-worker';

const REPO_ROOT = join(__dirname, '../../..');
const DATE_FIELDS = ['lockEnds', 'lastFailure', 'passwordChanged', 'passwordExpires', 'observed'] as const;

export interface SandboxedSsrBackend {
  inspect(account: string, config?: SsrBackendConfigInput): Promise<AccountState>;
  unlock(account: string, config?: SsrBackendConfigInput): Promise<ChangeResult>;
  resetPassword(account: string, password: string, options?: { config?: SsrBackendConfigInput; temporary?: boolean }): Promise<ChangeResult>;
  /** The backend's pino log lines so far. */
  logs(): string;
  stop(): Promise<void>;
}

function reviveState(s: Record<string, unknown> | null | undefined): AccountState {
  const out = { ...(s ?? {}) } as Record<string, unknown>;
  for (const f of DATE_FIELDS) out[f] = typeof out[f] === 'string' ? new Date(out[f] as string) : undefined;
  return out as unknown as AccountState;
}

/** Starts the worker in `sb`; every call uses `config` unless it brings its own. */
export function startSandboxedSsrBackend(sb: PamSandbox, config: () => SsrBackendConfigInput): SandboxedSsrBackend {
  const child = sb.spawn([process.execPath, '-r', 'tsx/cjs', join(__dirname, 'ssr-backend-worker.ts')], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
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
    for (const p of pending.values()) p.reject(new Error(`ssr backend worker exited (${code}): ${stderr}`));
    pending.clear();
  });

  const call = (req: Omit<SsrWorkerRequest, 'id'>): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.stdin!.write(`${JSON.stringify({ ...req, id })}\n`);
    });
  const change = (r: unknown): ChangeResult => {
    const c = r as { before: Record<string, unknown>; after: Record<string, unknown>; notes: string[] };
    return { before: reviveState(c.before), after: reviveState(c.after), notes: c.notes };
  };

  return {
    inspect: async (account, c) => reviveState((await call({ op: 'inspect', account, config: c ?? config() })) as Record<string, unknown>),
    unlock: async (account, c) => change(await call({ op: 'unlock', account, config: c ?? config() })),
    resetPassword: async (account, password, o = {}) =>
      change(await call({ op: 'resetPassword', account, password, temporary: o.temporary, config: o.config ?? config() })),
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
