/**
 * What a connected node tells the controller besides results: its hello (inventory facts), state
 * reports (latest account state plus history on change) and heartbeats (liveness, busy flag).
 */
import type { Clock } from '../../shared/clock';
import { FleetpassError } from '../../shared/errors';
import type { Hello, StateReport } from '../../shared/gen/fleetpass/v1/agent';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import type { Logger } from '../../shared/logger';
import { accountNameProblem } from '../../shared/validation/account-name';
import { textProblem } from '../../shared/validation/text';
import type { AccountChange, NodeHelloFacts, Store } from '../store';

const MAX_LABELS = 64;
const MAX_TEXT = 200;
const BACKENDS = new Set<number>([Backend.BACKEND_LINUX, Backend.BACKEND_SSR, Backend.BACKEND_LRM]);
const ACTIONS = new Set<number>(Object.values(Action).filter((v): v is number => typeof v === 'number' && v > 0));

/** Bounded, and refused (FP_INVALID_ARGUMENT) when it holds control characters or invalid UTF-8. */
function text(what: string, s: string): string {
  const problem = textProblem(what, s, { max: Number.MAX_SAFE_INTEGER, singleLine: true });
  if (problem) throw new FleetpassError('FP_INVALID_ARGUMENT', `the hello is refused: ${problem}`);
  return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) : s;
}

/**
 * The inventory facts of a hello, bounded so a node cannot bloat the inventory. Text with control
 * characters or invalid UTF-8 refuses the hello; backends and actions this controller does not know (a
 * newer agent) are left out with a warning rather than stored.
 */
export function helloFacts(hello: Hello, certificateExpires?: Date, log?: Logger): NodeHelloFacts {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(hello.labels).slice(0, MAX_LABELS))
    labels[text('a label name', k)] = text(`the label ${JSON.stringify(k.slice(0, 40))}`, v);
  const unknown = [...hello.backends, ...hello.policy.flatMap((p) => [p.backend])].filter((b) => !BACKENDS.has(b));
  const unknownActions = hello.policy.flatMap((p) => p.actions).filter((a) => !ACTIONS.has(a));
  if (unknown.length || unknownActions.length)
    log?.warn(
      { backends: [...new Set(unknown)], actions: [...new Set(unknownActions)] },
      'hello names backends or actions this controller does not know; left out',
    );
  return {
    hostname: text('the hostname', hello.hostname),
    platform: text('the platform', hello.platform),
    agentVersion: text('the agent version', hello.agentVersion),
    labels,
    backends: [...new Set(hello.backends)].filter((b) => BACKENDS.has(b)),
    policy: hello.policy
      .filter((p) => !accountNameProblem(p.account) && BACKENDS.has(p.backend))
      .map((p) => ({ ...p, actions: p.actions.filter((a) => ACTIONS.has(a)) }))
      .slice(0, 500),
    busy: hello.busy,
    certificateExpires: certificateExpires?.toISOString(),
  };
}

/** How much state history to keep per node and account (config accountHistory). */
export interface HistoryBounds {
  maxPerAccount: number;
  maxAgeDays: number;
}

/**
 * Stores a state report in one transaction; returns the accounts whose state changed. Entries with an
 * invalid account name are dropped (and logged), the rest are kept. History is trimmed to `history`
 * (count per account, and age across the node, so accounts that disappeared age out too).
 */
export function applyStateReport(
  store: Store,
  nodeId: string,
  report: StateReport,
  clock: Clock,
  log: Logger,
  history?: HistoryBounds,
): AccountChange[] {
  const valid = report.accounts.filter((a) => {
    const problem =
      accountNameProblem(a.account) ?? (BACKENDS.has(a.backend) ? undefined : `unknown backend ${a.backend}`);
    if (problem) log.warn({ nodeId, problem }, 'state report entry dropped');
    return !problem;
  });
  const now = clock.now();
  return store.db
    .transaction(() => {
      const changes = store.accounts.apply(nodeId, valid, 'report', now);
      if (report.complete && valid.length === report.accounts.length) store.accounts.pruneMissing(nodeId, valid);
      if (history && changes.length)
        store.accounts.trimHistory(
          nodeId,
          changes.map((c) => c.current),
          {
            maxPerAccount: history.maxPerAccount,
            before: new Date(now.getTime() - history.maxAgeDays * 86_400_000),
          },
        );
      return changes;
    })
    .immediate();
}
