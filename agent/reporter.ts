/**
 * State reports: a complete report on connect, on the interval and on a refresh request; a partial one
 * when a cheap periodic inspect sees an account change, and after each operation. "Changed" compares
 * with what the controller was last sent (ignoring the observation time). Accounts are inspected one at
 * a time; an account that cannot be inspected is left out and the report is marked incomplete.
 */
import type { Logger } from '../shared/logger';
import { asFleetpassError } from '../shared/errors';
import { AccountState } from '../shared/gen/fleetpass/v1/common';
import type { Backend } from '../shared/gen/fleetpass/v1/common';
import { StateReportTrigger, type RefreshRequest, type StateReport } from '../shared/gen/fleetpass/v1/agent';
import type { AccountBackend } from './backends/backend';
import { backendName, type ManagedAccount } from './policy';

export interface ReporterDeps {
  readonly backends: ReadonlyMap<Backend, AccountBackend>;
  readonly managed: readonly ManagedAccount[];
  readonly log: Logger;
  /** Sends a report on the open stream; false when disconnected. */
  readonly send: (report: StateReport) => Promise<boolean>;
}

export interface Reporter {
  /** Inspects every managed account and sends a complete report. */
  reportAll(trigger: StateReportTrigger, requestId?: string): Promise<boolean>;
  /** Answers a RefreshRequest (all managed accounts, or those named). */
  refresh(request: RefreshRequest): Promise<boolean>;
  /** Inspects every managed account and sends only those that changed since the last report. */
  checkChanges(): Promise<boolean>;
  /** Sends states already observed (an operation's `after`). */
  reportStates(states: readonly AccountState[], trigger: StateReportTrigger): Promise<boolean>;
  /** Forgets what was sent (a new stream starts from a complete report). */
  reset(): void;
}

const keyOf = (backend: Backend, account: string) => `${backend}/${account}`;

/** What makes two observations "the same" for change detection. */
function fingerprint(s: AccountState): string {
  return JSON.stringify(AccountState.toJSON({ ...s, observed: undefined }));
}

/** Creates the reporter over the managed accounts. */
export function createReporter(deps: ReporterDeps): Reporter {
  const log = deps.log.child({ component: 'reporter' });
  const lastSent = new Map<string, string>();

  async function inspect(targets: readonly ManagedAccount[]): Promise<{ states: AccountState[]; failed: number }> {
    const states: AccountState[] = [];
    let failed = 0;
    for (const t of targets) {
      const backend = deps.backends.get(t.backend);
      if (!backend) {
        failed += 1;
        continue;
      }
      try {
        states.push(await backend.inspect(t.account));
      } catch (e) {
        failed += 1;
        const fe = asFleetpassError(e);
        log.warn(
          { backend: backendName(t.backend), account: t.account, code: fe.code, reason: fe.message },
          'inspect failed',
        );
      }
    }
    return { states, failed };
  }

  async function send(
    states: AccountState[],
    trigger: StateReportTrigger,
    complete: boolean,
    requestId = '',
  ): Promise<boolean> {
    const ok = await deps.send({ accounts: states, trigger, requestId, complete });
    if (ok) for (const s of states) lastSent.set(keyOf(s.backend, s.account), fingerprint(s));
    log.debug({ trigger, accounts: states.length, complete, sent: ok }, 'state report');
    return ok;
  }

  return {
    async reportAll(trigger, requestId) {
      const { states, failed } = await inspect(deps.managed);
      return send(states, trigger, failed === 0, requestId);
    },
    async refresh(request) {
      const wanted =
        request.accounts.length === 0 ? deps.managed : deps.managed.filter((m) => request.accounts.includes(m.account));
      const unknown = request.accounts.filter((a) => !deps.managed.some((m) => m.account === a));
      if (unknown.length > 0)
        log.warn({ requestId: request.requestId, unknown }, 'refresh named accounts this node does not manage');
      const { states, failed } = await inspect(wanted);
      return send(
        states,
        StateReportTrigger.STATE_REPORT_TRIGGER_REQUEST,
        request.accounts.length === 0 && failed === 0,
        request.requestId,
      );
    },
    async checkChanges() {
      const { states } = await inspect(deps.managed);
      const changed = states.filter((s) => lastSent.get(keyOf(s.backend, s.account)) !== fingerprint(s));
      if (changed.length === 0) return true;
      log.info({ accounts: changed.map((s) => `${backendName(s.backend)}/${s.account}`) }, 'account state changed');
      return send(changed, StateReportTrigger.STATE_REPORT_TRIGGER_CHANGE, false);
    },
    reportStates(states, trigger) {
      return send([...states], trigger, false);
    },
    reset() {
      lastSent.clear();
    },
  };
}
