/** Test-only client for ssr-backend-worker.ts: the SSR backend running on a sandboxed "router node". */
import { join } from 'node:path';
import type { PamSandbox } from '../../../shared/pam-sandbox';
import type { AccountState } from '../../../shared/gen/fleetpass/v1/common';
import type { ChangeResult } from '../../../agent/backends/backend';
import type { SsrBackendConfigInput } from '../../../agent/backends/ssr';
import { reviveChange, reviveState, startSandboxWorker } from '../../helpers/sandbox-worker';
import type { SsrWorkerRequest } from './ssr-backend-worker';

export interface SandboxedSsrBackend {
  inspect(account: string, config?: SsrBackendConfigInput): Promise<AccountState>;
  unlock(account: string, config?: SsrBackendConfigInput): Promise<ChangeResult>;
  resetPassword(
    account: string,
    password: string,
    options?: { config?: SsrBackendConfigInput; temporary?: boolean },
  ): Promise<ChangeResult>;
  /** The backend's pino log lines so far. */
  logs(): string;
  stop(): Promise<void>;
}

/** Starts the worker in `sb`; every call uses `config` unless it brings its own. */
export function startSandboxedSsrBackend(sb: PamSandbox, config: () => SsrBackendConfigInput): SandboxedSsrBackend {
  const worker = startSandboxWorker<SsrWorkerRequest>(
    sb,
    join(__dirname, 'ssr-backend-worker.ts'),
    'ssr backend worker',
  );
  return {
    inspect: async (account, c) =>
      reviveState(await worker.call({ op: 'inspect', account, config: c ?? config(), pamService: sb.service })),
    unlock: async (account, c) =>
      reviveChange(await worker.call({ op: 'unlock', account, config: c ?? config(), pamService: sb.service })),
    resetPassword: async (account, password, o = {}) =>
      reviveChange(
        await worker.call({
          op: 'resetPassword',
          account,
          password,
          temporary: o.temporary,
          config: o.config ?? config(),
          pamService: sb.service,
        }),
      ),
    logs: worker.logs,
    stop: worker.stop,
  };
}
