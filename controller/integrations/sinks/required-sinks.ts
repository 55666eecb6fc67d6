/**
 * Fail closed on required sinks, as Vault does when no audit device can record: while a sink marked
 * `required: true` has more than maxLagRecords unconfirmed records, or an unconfirmed record older than
 * maxLagSeconds, every audited change is refused with FP_AUDIT_SINK_BEHIND (the append throws inside the
 * change's transaction, so the change is rolled back with it). The controller's own start, stop and
 * checkpoint records are let through: refusing them would keep a controller that must deliver the
 * backlog from starting. Reads are never refused. The lag cannot grow while changes are refused, so
 * changes resume by themselves once the sink has caught up.
 */
import { FleetpassError } from '../../../shared/errors';
import type { AuditEntry } from '../../audit';
import type { SinkRunner } from './sink-runner';

const ALWAYS_RECORDED = new Set(['controller.started', 'controller.stopped', 'audit.checkpoint']);

export interface SinkProblem {
  sink: string;
  lagRecords: number;
  lagSeconds: number;
  /** A sentence for /readyz and the refusal. */
  problem: string;
}

/** The required sinks that are beyond their bound now. */
export function requiredSinkProblems(runners: readonly SinkRunner[]): SinkProblem[] {
  const out: SinkProblem[] = [];
  for (const r of runners) {
    if (!r.config.required) continue;
    const lag = r.lag();
    const overRecords = lag.records > r.config.maxLagRecords;
    const overSeconds = lag.seconds > r.config.maxLagSeconds;
    if (!overRecords && !overSeconds) continue;
    const why = overRecords
      ? `${lag.records} records unconfirmed (bound ${r.config.maxLagRecords})`
      : `the oldest unconfirmed record is ${Math.round(lag.seconds)} s old (bound ${r.config.maxLagSeconds} s)`;
    out.push({
      sink: r.config.name,
      lagRecords: lag.records,
      lagSeconds: lag.seconds,
      problem: `required audit sink "${r.config.name}" is behind: ${why}`,
    });
  }
  return out;
}

/** Throws FP_AUDIT_SINK_BEHIND when `entry` is a change and a required sink is beyond its bound. */
export function assertRequiredSinksKeepUp(runners: readonly SinkRunner[], entry: AuditEntry): void {
  if (ALWAYS_RECORDED.has(entry.action)) return;
  const problems = requiredSinkProblems(runners);
  if (problems.length === 0) return;
  throw new FleetpassError(
    'FP_AUDIT_SINK_BEHIND',
    `${problems.map((p) => p.problem).join('; ')}; changes are refused until it catches up`,
    {
      details: { sinks: problems.map((p) => p.sink), action: entry.action },
    },
  );
}
