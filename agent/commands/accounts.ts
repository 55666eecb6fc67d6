/**
 * `fleetpass-agent accounts [NAME...]`: the on-site technician's view of the node, inspected directly
 * through the backends (no controller needed): locked accounts first, with the time left on each lock.
 * Read-only. Without names it shows every account in the local policy; named accounts are inspected on
 * `--backend` (linux by default) whether or not the policy lists them.
 */
import { createLogger } from '../../shared/logger';
import { systemClock, type Clock } from '../../shared/clock';
import { asFleetpassError, FleetpassError } from '../../shared/errors';
import { assertAccountName } from '../../shared/validation/account-name';
import {
  AccountState,
  lockReasonToJSON,
  failureCounterToJSON,
  type Backend,
} from '../../shared/gen/fleetpass/v1/common';
import type { AccountBackend } from '../backends/backend';
import { createBackends } from '../backends/registry';
import { BACKEND_NAMES, loadAgentConfig, type BackendName } from '../config';
import { actionName, backendName, createPolicy, type ManagedAccount } from '../policy';
import { configFile, errorLine, shortDuration, type CommandIo } from './command-io';
import Table from 'cli-table3';

export interface AccountsOptions {
  config?: string;
  json?: boolean;
  backend?: string;
}

export interface AccountsDeps {
  readonly clock?: Clock;
  /** Backends to use instead of building them from config (tests). */
  readonly backends?: ReadonlyMap<Backend, AccountBackend>;
}

/** One row of `accounts --json`. */
export interface AccountRow {
  backend: string;
  account: string;
  /** Actions the local policy allows on it (empty when not in the policy). */
  policy: string[];
  state?: Record<string, unknown>;
  /** Seconds until a failure lock ends by itself; absent when not locked or when it never ends. */
  lockSecondsLeft?: number;
  error?: { code: string; message: string };
}

/** Prints the accounts table (or JSON); 0 when every account was inspected, 1 when some could not be, 2 on bad usage. */
export async function accountsCommand(
  names: string[],
  opts: AccountsOptions,
  io: CommandIo,
  deps: AccountsDeps = {},
): Promise<number> {
  const clock = deps.clock ?? systemClock;
  let targets: ManagedAccount[];
  let backends: ReadonlyMap<Backend, AccountBackend>;
  let policy;
  try {
    const { config } = loadAgentConfig({ file: configFile(opts.config, io.env), env: io.env });
    policy = createPolicy(config.policy);
    const log = createLogger({
      level: io.env.FLEETPASS_LOG_LEVEL ?? 'warn',
      name: 'fleetpass-agent',
      destination: process.stderr,
    });
    backends = deps.backends ?? createBackends(config.backends, { log, clock });
    if (names.length === 0) targets = [...policy.managed()];
    else {
      const wanted = (opts.backend ?? 'linux') as BackendName;
      if (!(wanted in BACKEND_NAMES))
        throw new FleetpassError(
          'FP_INVALID_ARGUMENT',
          `unknown backend ${JSON.stringify(opts.backend)}; use one of ${Object.keys(BACKEND_NAMES).join(', ')}`,
        );
      targets = names.map((n) => ({ backend: BACKEND_NAMES[wanted], account: assertAccountName(n) }));
    }
  } catch (e) {
    io.err(errorLine(e));
    const code = asFleetpassError(e).code;
    return code === 'FP_INVALID_ARGUMENT' || code === 'FP_ACCOUNT_NAME_INVALID' ? 2 : 1;
  }

  const now = clock.now();
  const seen: { row: AccountRow; state?: AccountState }[] = [];
  for (const t of targets) {
    const entry = policy.accounts.find((p) => p.backend === t.backend && p.account === t.account);
    const row: AccountRow = {
      backend: backendName(t.backend),
      account: t.account,
      policy: (entry?.actions ?? []).map(actionName),
    };
    const backend = backends.get(t.backend);
    try {
      if (!backend)
        throw new FleetpassError(
          'FP_BACKEND_UNAVAILABLE',
          `the ${backendName(t.backend)} backend is not enabled on this node`,
        );
      const state = await backend.inspect(t.account);
      row.state = AccountState.toJSON(state) as Record<string, unknown>;
      if (state.locked && state.lockEnds)
        row.lockSecondsLeft = Math.max(0, Math.round((state.lockEnds.getTime() - now.getTime()) / 1000));
      seen.push({ row, state });
    } catch (e) {
      const fe = asFleetpassError(e);
      row.error = { code: fe.code, message: fe.message };
      seen.push({ row });
    }
  }
  // Locked first (what the technician came for), then the ones that could not be read, then the rest.
  const rank = (x: (typeof seen)[number]) => (x.row.error ? 1 : x.state?.locked ? 0 : 2);
  seen.sort(
    (a, b) =>
      rank(a) - rank(b) || a.row.backend.localeCompare(b.row.backend) || a.row.account.localeCompare(b.row.account),
  );

  if (opts.json) {
    io.out(
      JSON.stringify(
        seen.map((x) => x.row),
        null,
        2,
      ),
    );
  } else {
    io.out(renderTable(seen, now));
  }
  return seen.some((x) => x.row.error) ? 1 : 0;
}

const lower = (s: string, prefix: string) => s.replace(prefix, '').toLowerCase();

/** The human table: one line per account. */
function renderTable(seen: readonly { row: AccountRow; state?: AccountState }[], now: Date): string {
  const t = new Table({
    head: ['BACKEND', 'ACCOUNT', 'STATE', 'FAILURES', 'UNLOCKS IN', 'LAST FAILURE', 'POLICY'],
    style: { head: [], border: [] },
  });
  for (const { row: r, state: s } of seen) {
    const policy = r.policy.join(',') || '(not in policy)';
    if (!s) {
      t.push([r.backend, r.account, `error ${r.error!.code}`, '', '', r.error!.message, policy]);
      continue;
    }
    const reasons = s.lockReasons.map((x) => lower(lockReasonToJSON(x), 'LOCK_REASON_')).join(', ');
    const state = !s.exists ? 'missing' : s.locked ? `LOCKED (${reasons})` : 'ok';
    const failures = `${s.denyThreshold > 0 ? `${s.failureCount}/${s.denyThreshold}` : s.failureCount} ${lower(failureCounterToJSON(s.counter), 'FAILURE_COUNTER_')}`;
    const unlocks = !s.locked
      ? ''
      : s.lockPermanent || !s.lockEnds
        ? 'never (needs unlock)'
        : shortDuration(s.lockEnds.getTime() - now.getTime());
    const last = s.lastFailure
      ? `${shortDuration(now.getTime() - s.lastFailure.getTime())} ago${s.lastFailureSource ? ` from ${s.lastFailureSource}` : ''}`
      : '';
    t.push([r.backend, r.account, state, failures, unlocks, last, policy]);
  }
  return t.toString();
}
