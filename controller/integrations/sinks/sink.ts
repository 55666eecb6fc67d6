/**
 * The contract every audit sink implements. The runner (sink-runner.ts) hands a sink batches in seq
 * order, starting after the last confirmed record; `deliver` resolves only once the receiver has
 * confirmed the whole batch in the sink's own terms (syslog: the connection stayed up past the confirm
 * window; HTTPS: a 2xx answer; Splunk HEC: the indexer acknowledged it) and rejects otherwise. After a
 * rejection the runner sends the same records again: delivery is at least once, never out of order, and
 * a receiver tells duplicates apart by seq.
 */
import type { AuditEvent } from './audit-event';

export interface AuditSink {
  readonly name: string;
  readonly type: string;
  deliver(events: readonly AuditEvent[], signal: AbortSignal): Promise<void>;
  /** Closes connections; a deliver in flight rejects. */
  close(): Promise<void>;
}
