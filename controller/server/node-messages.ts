/**
 * What a connected node tells the controller besides results: its hello (inventory facts), state
 * reports (latest account state plus history on change) and heartbeats (liveness, busy flag).
 */
import type { Clock } from '../../shared/clock';
import type { Hello, StateReport } from '../../shared/gen/fleetpass/v1/agent';
import type { Logger } from '../../shared/logger';
import { accountNameProblem } from '../../shared/validation/account-name';
import type { AccountChange, NodeHelloFacts, Store } from '../store';

const MAX_LABELS = 64;
const MAX_TEXT = 200;

function text(s: string): string {
  return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) : s;
}

/** The inventory facts of a hello, bounded so a node cannot bloat the inventory. */
export function helloFacts(hello: Hello, certificateExpires?: Date): NodeHelloFacts {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(hello.labels).slice(0, MAX_LABELS)) labels[text(k)] = text(v);
  return {
    hostname: text(hello.hostname), platform: text(hello.platform), agentVersion: text(hello.agentVersion), labels,
    backends: [...new Set(hello.backends)], policy: hello.policy.filter((p) => !accountNameProblem(p.account)).slice(0, 500),
    busy: hello.busy, certificateExpires: certificateExpires?.toISOString(),
  };
}

/**
 * Stores a state report in one transaction; returns the accounts whose state changed. Entries with an
 * invalid account name are dropped (and logged), the rest are kept.
 */
export function applyStateReport(store: Store, nodeId: string, report: StateReport, clock: Clock, log: Logger): AccountChange[] {
  const valid = report.accounts.filter((a) => {
    const problem = accountNameProblem(a.account);
    if (problem) log.warn({ nodeId, problem }, 'state report entry dropped');
    return !problem;
  });
  const now = clock.now();
  return store.db.transaction(() => {
    const changes = store.accounts.apply(nodeId, valid, 'report', now);
    if (report.complete && valid.length === report.accounts.length) store.accounts.pruneMissing(nodeId, valid);
    return changes;
  }).immediate();
}
