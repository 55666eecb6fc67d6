/**
 * The integrations IT already runs beside fleetpass: audit sinks (the audit trail shipped to syslog over
 * TLS, JSON over HTTPS or Splunk HEC, each with a durable cursor) and the monitoring listener (/metrics,
 * /healthz, /readyz). The composition root creates this right after the data file opens, wraps the audit
 * log with `guardAudit` (wakes the sinks, refuses changes while a required sink is too far behind), and
 * calls start() once the controller runs and shutdown() before the data file closes.
 */
import { hostname } from 'node:os';
import type { Clock } from '../../shared/clock';
import { FleetpassError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import type { ControllerPki } from '../../shared/pki';
import { onAuditWriteFailure, verifyAudit, type AuditLog } from '../audit';
import type { ControllerConfig } from '../config';
import type { Db } from '../store';
import { createFleetGaugesRepo } from '../store/fleet-gauges-repo';
import { createSinkCursorsRepo } from '../store/sink-cursors-repo';
import { createFleetMetrics, type FleetMetrics } from './metrics/fleet-metrics';
import { createIntegrityMonitor, type IntegrityMonitor } from './metrics/integrity-monitor';
import { startMetricsServer, type MetricsServer } from './metrics/metrics-server';
import { checkReadiness, type Readiness } from './metrics/readiness';
import type { CheckpointLookup } from './sinks/audit-event';
import { createSink } from './sinks/create-sink';
import { assertRequiredSinksKeepUp, requiredSinkProblems } from './sinks/required-sinks';
import { createSinkRunner, type SinkRunner, type SinkStatus } from './sinks/sink-runner';
import { readSecretFile } from './material-files';

export type { CheckpointLookup } from './sinks/audit-event';
export type { SinkStatus } from './sinks/sink-runner';
export type { Readiness } from './metrics/readiness';

export interface IntegrationsDeps {
  config: ControllerConfig;
  db: Db;
  clock: Clock;
  log: Logger;
  /** The external checkpoint file verify reads. */
  checkpointFile: string;
  /** The (signed) checkpoint shipped with a record (default: an "audit.checkpoint" record's audit_checkpoints row). */
  checkpoint?: CheckpointLookup;
  /** Replaces the default whole-chain verification behind fleetpass_audit_integrity and /readyz. */
  integrityCheck?: () => { ok: boolean; problem: string };
  /**
   * The log's integrity right now, cheaply (default: the last integrity check). While it is not ok, guardAudit
   * refuses every append with FP_AUDIT_INTEGRITY: nothing is written on top of a log that lost what it held.
   */
  integrityNow?: () => { ok: boolean; problem: string };
}

export interface Integrations {
  /** The audit log every component writes through: wakes the sinks and applies the required-sink gate. */
  guardAudit(audit: AuditLog): AuditLog;
  start(pki: ControllerPki): Promise<void>;
  /** Lets healthy sinks deliver what is left (up to `drainMs`), then stops them and the listener. */
  shutdown(drainMs?: number): Promise<void>;
  /** http(s)://host:port of the monitoring listener, once started (undefined when disabled). */
  metricsUrl(): string | undefined;
  sinks(): SinkStatus[];
  readiness(): Readiness;
  /** Verifies the audit chain now (normally on a timer). */
  checkIntegrity(): { ok: boolean; problem: string };
}

export function createIntegrations(d: IntegrationsDeps): Integrations {
  const { config, db, clock } = d;
  const log = d.log;
  const cursors = createSinkCursorsRepo(db);
  const gauges = createFleetGaugesRepo(db);
  const sinks = config.audit.sinks.map((c) => createSink(c));
  const checkpointRow: CheckpointLookup = (r) =>
    r.action === 'audit.checkpoint' ? cursors.checkpointAt(r.seq) : undefined;
  const checkpoint: CheckpointLookup = d.checkpoint ? (r) => d.checkpoint!(r) ?? checkpointRow(r) : checkpointRow;
  const integrity: IntegrityMonitor = createIntegrityMonitor(
    d.integrityCheck ?? (() => verifyAudit(db, { checkpointFile: d.checkpointFile })),
    {
      intervalMs: config.metrics.integrityCheckSeconds * 1000,
      now: () => clock.now(),
      log,
    },
  );
  let runners: SinkRunner[] = [];
  let metrics: FleetMetrics | undefined;
  let server: MetricsServer | undefined;
  let unsubscribe: (() => void) | undefined;
  let wakePending = false;
  let failuresBeforeMetrics = 0;
  unsubscribe = onAuditWriteFailure(db, () => (metrics ? metrics.auditWriteFailed() : failuresBeforeMetrics++));

  const readiness = () =>
    checkReadiness({
      probeWrite: () => cursors.probeWrite(clock.now()),
      integrity: () => integrity.current(),
      sinkProblems: () => requiredSinkProblems(runners),
    });

  return {
    guardAudit(inner) {
      runners = sinks.map((sink, i) =>
        createSinkRunner({
          sink,
          config: config.audit.sinks[i],
          audit: inner,
          cursors,
          gauges,
          clock,
          log: log.child({ sink: sink.name }),
          source: hostname(),
          checkpoint,
        }),
      );
      const wake = () => {
        if (wakePending) return;
        wakePending = true;
        // After the current transaction has committed (better-sqlite3 is synchronous).
        setImmediate(() => {
          wakePending = false;
          for (const r of runners) r.wake();
        });
      };
      return {
        ...inner,
        append(entry) {
          const intact = (d.integrityNow ?? integrity.current)();
          if (!intact.ok)
            throw new FleetpassError(
              'FP_AUDIT_INTEGRITY',
              `the audit log lost what it held, so fleetpass refuses changes (reads still work): ${intact.problem}`,
              { details: { action: entry.action } },
            );
          if (runners.length) assertRequiredSinksKeepUp(runners, entry);
          const rec = inner.append(entry);
          if (runners.length) wake();
          return rec;
        },
      };
    },
    async start(pki) {
      if (runners.length !== sinks.length)
        throw new FleetpassError('FP_INTERNAL', 'integrations started before guardAudit');
      for (const r of runners) r.start();
      if (!config.metrics.enabled) return;
      integrity.start();
      metrics = createFleetMetrics({
        gauges,
        runners: () => runners,
        integrity,
        now: () => clock.now(),
        caPem: pki.ca.certPem,
        serverPem: pki.server.certPem,
      });
      for (; failuresBeforeMetrics > 0; failuresBeforeMetrics--) metrics.auditWriteFailed();
      const m = config.metrics;
      server = await startMetricsServer({
        listen: config.metricsListen,
        contentType: metrics.contentType,
        render: metrics.render,
        readiness,
        log,
        bearerToken: m.bearerTokenFile ? readSecretFile('metrics', 'bearerTokenFile', m.bearerTokenFile) : undefined,
        tls: m.clientCaFile
          ? {
              certPem: `${pki.server.certPem.trimEnd()}\n${pki.ca.certPem}`,
              keyPem: pki.server.keyPem,
              clientCaPem:
                m.clientCaFile === 'controller-ca'
                  ? pki.ca.certPem
                  : readSecretFile('metrics', 'clientCaFile', m.clientCaFile),
            }
          : undefined,
      });
    },
    async shutdown(drainMs = 2000) {
      const deadline = Date.now() + drainMs;
      const delivering = (r: SinkRunner) => {
        try {
          return r.status().lastError === '' && r.lag().records > 0;
        } catch {
          return false; // the data file does not answer: nothing to wait for
        }
      };
      const healthy = () => runners.filter(delivering);
      while (healthy().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await Promise.all(runners.map((r) => r.stop()));
      integrity.stop();
      await server?.close();
      server = undefined;
      unsubscribe?.();
      unsubscribe = undefined;
    },
    metricsUrl: () => server?.url(),
    sinks: () => runners.map((r) => r.status()),
    readiness,
    checkIntegrity: () => integrity.checkNow(),
  };
}
