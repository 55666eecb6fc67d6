/**
 * Test-only client for backend-worker.ts: starts the real Linux backend inside a PAM sandbox and calls it
 * as if it ran on that node, with an optional injected "now" and config per call.
 */
import { join } from 'node:path';
import type { PamSandbox } from '../../../shared/pam-sandbox';
import type { AccountState } from '../../../shared/gen/fleetpass/v1/common';
import type { ChangeResult } from '../../../agent/backends/backend';
import type { LinuxBackendConfigInput } from '../../../agent/backends/linux';
import { reviveChange, reviveState, startSandboxWorker } from '../../helpers/sandbox-worker';
import type { WorkerRequest } from './backend-worker';

export interface CallOptions {
  readonly now?: Date;
  readonly config?: LinuxBackendConfigInput;
}

export interface SandboxedBackend {
  inspect(account: string, options?: CallOptions): Promise<AccountState>;
  unlock(account: string, options?: CallOptions): Promise<ChangeResult>;
  resetPassword(
    account: string,
    password: string,
    options?: CallOptions & { temporary?: boolean },
  ): Promise<ChangeResult>;
  call(op: WorkerRequest['op'], account: string, extra?: Partial<WorkerRequest>): Promise<unknown>;
  /** Everything the worker wrote to stderr so far: the backend's pino log lines. */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts the worker in `sb`; the first call waits for tsx to load (a few hundred ms). Calls without a
 * config judge the sandbox's own service (`sb.service`) as the login service; `defaults` replaces that.
 */
export function startSandboxedBackend(
  sb: PamSandbox,
  defaults: LinuxBackendConfigInput = { pamServices: [sb.service] },
): SandboxedBackend {
  const worker = startSandboxWorker<WorkerRequest>(sb, join(__dirname, 'backend-worker.ts'), 'backend worker');
  const call = (op: WorkerRequest['op'], account: string, extra: Partial<WorkerRequest> = {}): Promise<unknown> =>
    worker.call({ config: defaults, ...extra, op, account });
  const opts = (o?: CallOptions) => ({ now: o?.now?.toISOString(), config: o?.config ?? defaults });
  return {
    inspect: async (account, o) => reviveState(await call('inspect', account, opts(o))),
    unlock: async (account, o) => reviveChange(await call('unlock', account, opts(o))),
    resetPassword: async (account, password, o) =>
      reviveChange(await call('resetPassword', account, { ...opts(o), password, temporary: o?.temporary })),
    call,
    logs: worker.logs,
    stop: worker.stop,
  };
}
