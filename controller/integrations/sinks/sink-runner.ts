/**
 * Runs one audit sink: reads the records after its durable cursor in seq order, hands them to the sink
 * in batches, and moves the cursor (in the database) only past what the receiver confirmed. A failure
 * is retried with a doubling wait; the same records go again, so delivery is at least once and in
 * order, and a restart resumes after the last confirmed record. It never blocks anything else: the
 * local chain is the record of truth, and only the gate (required-sinks.ts) reads the lag.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../../../shared/clock';
import { isFleetpassError } from '../../../shared/errors';
import type { Logger } from '../../../shared/logger';
import type { AuditLog } from '../../audit';
import type { FleetGauges } from '../../store/fleet-gauges-repo';
import type { SinkCursorsRepo } from '../../store/sink-cursors-repo';
import type { SinkConfig } from '../integrations-config';
import { toAuditEvent, type CheckpointLookup } from './audit-event';
import type { AuditSink } from './sink';

export interface SinkLag {
  /** Records written but not yet confirmed by the receiver. */
  records: number;
  /** Age of the oldest unconfirmed record (0 when none). */
  seconds: number;
}

export interface SinkStatus {
  name: string;
  type: string;
  required: boolean;
  deliveredSeq: number;
  lag: SinkLag;
  /** Failed deliveries since start. */
  failures: number;
  lastError: string;
}

export interface SinkRunner {
  readonly config: SinkConfig;
  start(): void;
  /** New records were appended: deliver soon. */
  wake(): void;
  lag(): SinkLag;
  status(): SinkStatus;
  stop(): Promise<void>;
}

export interface SinkRunnerDeps {
  sink: AuditSink;
  config: SinkConfig;
  audit: AuditLog;
  cursors: SinkCursorsRepo;
  gauges: FleetGauges;
  clock: Clock;
  log: Logger;
  source: string;
  checkpoint?: CheckpointLookup;
  /** Polls this often even without a wake (records written by another process, e.g. offline commands). */
  idlePollMs?: number;
}

export function createSinkRunner(d: SinkRunnerDeps): SinkRunner {
  const { sink, config: c, log } = d;
  const idlePollMs = d.idlePollMs ?? 5000;
  const abort = new AbortController();
  let cursor = 0;
  let failures = 0;
  let streak = 0;
  let lastError = '';
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;

  function initCursor(): void {
    const saved = d.cursors.get(c.name);
    if (saved) {
      cursor = saved.deliveredSeq;
      const head = d.gauges.auditHead();
      // A data file restored from an older backup: what the receiver holds past the head is gone here.
      if (cursor > head) {
        log.warn(
          { sink: c.name, cursor, head },
          'audit sink cursor is past the end of the log; delivering from the end',
        );
        cursor = head;
        return;
      }
      const at = cursor ? d.audit.query({ afterSeq: cursor - 1, limit: 1 }).records[0] : undefined;
      // The receiver holds a different record under this seq: the log was replaced or rewritten since.
      if (at && saved.deliveredHash && at.hash !== saved.deliveredHash) {
        log.error(
          { sink: c.name, seq: cursor, delivered: saved.deliveredHash, now: at.hash },
          'the audit record this sink last delivered differs from the one in the log',
        );
      }
      return;
    }
    cursor = c.startAt === 'now' ? d.gauges.auditHead() : 0;
    const at = cursor ? d.audit.query({ afterSeq: cursor - 1, limit: 1 }).records[0] : undefined;
    d.cursors.advance(c.name, cursor, at?.hash ?? '', d.clock.now());
  }

  function wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wakeUp = undefined;
        abort.signal.removeEventListener('abort', done);
        resolve();
      }
      wakeUp = done;
      abort.signal.addEventListener('abort', done, { once: true });
    });
  }

  async function run(): Promise<void> {
    while (!abort.signal.aborted) {
      woken = false;
      const batch = d.audit.query({ afterSeq: cursor, limit: c.batchSize }).records;
      if (batch.length === 0) {
        if (!woken) await wait(idlePollMs);
        continue;
      }
      try {
        await sink.deliver(
          batch.map((r) => toAuditEvent(r, d.source, d.checkpoint)),
          abort.signal,
        );
      } catch (err) {
        if (abort.signal.aborted) break;
        failures++;
        streak++;
        lastError = (err as Error).message;
        const delay = Math.min(1000 * 2 ** Math.min(streak - 1, 16), c.maxRetrySeconds * 1000);
        // The first failure and then every tenth, so an outage does not flood the log.
        if (streak === 1 || streak % 10 === 0)
          log.warn(
            {
              sink: c.name,
              code: isFleetpassError(err) ? err.code : undefined,
              err,
              fromSeq: batch[0].seq,
              failures: streak,
              retryInMs: delay,
            },
            'audit sink delivery failed',
          );
        await sleep(delay, undefined, { signal: abort.signal }).catch(() => undefined);
        continue;
      }
      const last = batch[batch.length - 1];
      cursor = last.seq;
      if (streak > 0) log.info({ sink: c.name, deliveredSeq: cursor, after: streak }, 'audit sink delivering again');
      streak = 0;
      lastError = '';
      try {
        d.cursors.advance(c.name, last.seq, last.hash, d.clock.now());
      } catch (err) {
        // The receiver has the records; a restart before the cursor is saved sends them again (at least once).
        log.error({ sink: c.name, err, seq: last.seq }, 'cannot save the audit sink cursor');
      }
      log.debug({ sink: c.name, from: batch[0].seq, to: last.seq }, 'audit records delivered');
    }
  }

  function lag(): SinkLag {
    const head = d.gauges.auditHead();
    if (head <= cursor) return { records: 0, seconds: 0 };
    const first = d.gauges.firstRecordAfter(cursor);
    const age = first ? (d.clock.now().getTime() - Date.parse(first.time)) / 1000 : 0;
    return { records: head - cursor, seconds: Math.max(0, age) };
  }

  return {
    config: c,
    start() {
      initCursor();
      loop = run().catch((err) => log.error({ sink: c.name, err }, 'audit sink stopped'));
    },
    wake() {
      woken = true;
      wakeUp?.();
    },
    lag,
    status: () => ({
      name: c.name,
      type: sink.type,
      required: c.required,
      deliveredSeq: cursor,
      lag: lag(),
      failures,
      lastError,
    }),
    async stop() {
      abort.abort();
      await loop;
      await sink.close().catch(() => undefined);
    },
  };
}
