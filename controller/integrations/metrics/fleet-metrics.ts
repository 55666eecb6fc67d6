/**
 * The Prometheus metrics of one controller, in its own prom-client registry (so several controllers in
 * one process do not mix). Fleet gauges are read from the data file when scraped; audit append failures
 * are counted as they happen; the standard process and Node metrics (CPU, memory, file descriptors,
 * event-loop delay, GC) come from prom-client's default collectors.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { readCertificateInfo } from '../../../shared/pki';
import type { FleetGauges } from '../../store/fleet-gauges-repo';
import type { SinkRunner } from '../sinks/sink-runner';
import type { IntegrityMonitor } from './integrity-monitor';

const BACKEND_WORDS: Record<number, string> = { 1: 'linux', 2: 'ssr', 3: 'lrm' };
const ACTION_WORDS: Record<number, string> = { 1: 'unlock', 2: 'reset_password', 3: 'refresh_state' };

export interface FleetMetricsDeps {
  gauges: FleetGauges;
  runners: () => readonly SinkRunner[];
  integrity: IntegrityMonitor;
  now: () => Date;
  /** PEM of the controller CA and server certificate (for their expiry). */
  caPem: string;
  serverPem: string;
}

export interface FleetMetrics {
  registry: Registry;
  /** Call for every failed audit write. */
  auditWriteFailed(): void;
  render(): Promise<string>;
  contentType: string;
}

function seconds(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t / 1000;
}

/** What every collector can do when its read fails: leave its samples out. */
interface Resettable {
  reset(): void;
}

export function createFleetMetrics(d: FleetMetricsDeps): FleetMetrics {
  const registry = new Registry();
  const registers = [registry];
  const readFailures = new Counter({
    name: 'fleetpass_metrics_read_failures_total',
    help: 'Metric reads that failed (for example the data file could not be read); the metric is left out of that scrape.',
    registers,
  });
  // A data file that stops answering must not take /metrics down with it: the metrics that do not need it still tell why.
  function guarded<T extends Resettable>(collect: (this: T) => void): (this: T) => void {
    return function (this: T) {
      try {
        collect.call(this);
      } catch {
        this.reset();
        readFailures.inc();
      }
    };
  }
  collectDefaultMetrics({ register: registry });
  // Gauges named like counters; promtool's lint (and Prometheus naming) rejects them, and nodejs_active_handles
  // and nodejs_active_requests carry the same counts.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
    registry.removeSingleMetric(name);
  const headAtStart = d.gauges.auditHead();
  const caExpiry = readCertificateInfo(d.caPem).notAfter.getTime() / 1000;
  const serverExpiry = readCertificateInfo(d.serverPem).notAfter.getTime() / 1000;

  new Gauge({
    name: 'fleetpass_nodes',
    help: 'Enrolled nodes by state (online, offline, stale, revoked).',
    labelNames: ['state'],
    registers,
    collect: guarded(function (this: Gauge<string>) {
      this.reset();
      for (const state of ['online', 'offline', 'stale', 'revoked']) this.set({ state }, 0);
      for (const r of d.gauges.nodesByState()) this.set({ state: r.state }, r.count);
    }),
  });
  new Gauge({
    name: 'fleetpass_locked_accounts',
    help: 'Accounts the nodes report locked, by the node site label and account backend.',
    labelNames: ['site', 'backend'],
    registers,
    collect: guarded(function (this: Gauge<string>) {
      this.reset();
      for (const r of d.gauges.lockedAccounts())
        this.set({ site: r.site, backend: BACKEND_WORDS[r.backend] ?? String(r.backend) }, r.count);
    }),
  });
  new Gauge({
    name: 'fleetpass_operations',
    help: 'Operations in the data file by action and outcome (their state).',
    labelNames: ['action', 'outcome'],
    registers,
    collect: guarded(function (this: Gauge<string>) {
      this.reset();
      for (const r of d.gauges.operations())
        this.set({ action: ACTION_WORDS[r.action] ?? String(r.action), outcome: r.state }, r.count);
    }),
  });
  new Gauge({
    name: 'fleetpass_change_requests_pending_approval',
    help: 'Change requests waiting for a second person to approve them.',
    registers,
    collect: guarded(function (this: Gauge<string>) {
      this.set(d.gauges.changeRequestsPendingApproval());
    }),
  });
  new Counter({
    name: 'fleetpass_audit_appends_total',
    help: 'Audit records committed since the controller started.',
    registers,
    collect: guarded(function (this: Counter<string>) {
      this.reset();
      this.inc(Math.max(0, d.gauges.auditHead() - headAtStart));
    }),
  });
  const appendFailures = new Counter({
    name: 'fleetpass_audit_append_failures_total',
    help: 'Audit records that could not be written (the change they recorded was refused).',
    registers,
  });
  new Gauge({
    name: 'fleetpass_audit_integrity',
    help: 'Whether the audit chain verified at the last check (1) or not (0).',
    registers,
    collect: guarded(function (this: Gauge<string>) {
      this.set(d.integrity.current().ok ? 1 : 0);
    }),
  });
  new Gauge({
    name: 'fleetpass_audit_integrity_checked_timestamp_seconds',
    help: 'When the audit chain was last verified (Unix time).',
    registers,
    collect: guarded(function (this: Gauge<string>) {
      this.set(d.integrity.current().checkedAt.getTime() / 1000);
    }),
  });
  new Gauge({
    name: 'fleetpass_audit_checkpoint_age_seconds',
    help: 'Seconds since the last audit checkpoint (-1 when there is none yet).',
    registers,
    collect: guarded(function (this: Gauge<string>) {
      const t = seconds(d.gauges.lastCheckpointTime());
      this.set(t === undefined ? -1 : Math.max(0, d.now().getTime() / 1000 - t));
    }),
  });
  /** A gauge with one value per configured sink, read from its runner at scrape time. */
  function perSinkGauge(name: string, help: string, value: (r: SinkRunner) => number): void {
    new Gauge({
      name,
      help,
      labelNames: ['sink'],
      registers,
      collect: guarded(function (this: Gauge<string>) {
        this.reset();
        for (const r of d.runners()) this.set({ sink: r.config.name }, value(r));
      }),
    });
  }
  perSinkGauge(
    'fleetpass_audit_sink_lag_records',
    'Audit records not yet confirmed by each sink.',
    (r) => r.lag().records,
  );
  perSinkGauge(
    'fleetpass_audit_sink_lag_seconds',
    'Age of the oldest audit record each sink has not confirmed (0 when none).',
    (r) => r.lag().seconds,
  );
  new Counter({
    name: 'fleetpass_audit_sink_delivery_failures_total',
    help: 'Failed deliveries per audit sink since the controller started.',
    labelNames: ['sink'],
    registers,
    collect: guarded(function (this: Counter<string>) {
      this.reset();
      for (const r of d.runners()) this.inc({ sink: r.config.name }, r.status().failures);
    }),
  });
  perSinkGauge(
    'fleetpass_audit_sink_required',
    'Whether each audit sink is required (1: changes are refused while it lags beyond its bound).',
    (r) => (r.config.required ? 1 : 0),
  );
  new Gauge({
    name: 'fleetpass_certificate_expiry_timestamp_seconds',
    help: 'When certificates expire (Unix time): the controller CA, its server certificate and the soonest node certificate.',
    labelNames: ['certificate'],
    registers,
    collect: guarded(function (this: Gauge<string>) {
      this.reset();
      this.set({ certificate: 'ca' }, caExpiry);
      this.set({ certificate: 'server' }, serverExpiry);
      const node = seconds(d.gauges.soonestNodeCertificateExpiry());
      if (node !== undefined) this.set({ certificate: 'node_soonest' }, node);
    }),
  });

  return {
    registry,
    auditWriteFailed: () => appendFailures.inc(),
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
