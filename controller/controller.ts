/**
 * The composition root and the controller's lifecycle: create() wires nothing yet; start() wires
 * store → audit → dispatch → (escrow) → service → transports: it opens the data file (migrations), the
 * secrets key, the PKI (created on first start), enrollment, password escrow (escrow.enabled), the ONE
 * service layer, the agent gRPC server, the admin API, the web console (web.enabled) and the jobs;
 * shutdown() stops taking work, waits for jobs and deliveries in flight, flushes liveness, records the
 * stop (with an audit checkpoint) and closes the file. State union: created → starting → running →
 * stopping → stopped, or failed; every transition is logged.
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Server } from '@grpc/grpc-js';
import { systemClock, type Clock } from '../shared/clock';
import { FleetpassError } from '../shared/errors';
import { createLogger, type Logger } from '../shared/logger';
import { ensureControllerPki, type ControllerPki } from '../shared/pki';
import type { FloodLimits } from './access/authenticate';
import { compilePolicy } from './access/policy';
import { startAdminApi, type AdminApiServer } from './admin-api/admin-api-server';
import { createAuditLog, recordAudited, writeCheckpoint, type AuditLog } from './audit';
import { createAuditTrail, type AuditTrail } from './audit/audit-trail';
import { loadOrCreateSigningKey } from './audit/signing-key';
import type { ControllerConfig } from './config';
import { createEnrollment, type EnrollSettings, type Enrollment } from './enroll';
import { createIntegrations, type Integrations, type IntegrationsDeps } from './integrations';
import {
  CONTROLLER_ACTOR,
  createDispatcher,
  createEventBus,
  createSecretVault,
  loadOrCreateSecretKey,
  type Dispatcher,
  type EventBus,
} from './dispatch';
import { checkDatabaseKey, startEscrow, type Escrow, type EscrowRuntime } from './escrow';
import { checkpointAudit } from './jobs/audit-checkpoint';
import { backupDatabase } from './jobs/backup';
import { expireOperations } from './jobs/expire-operations';
import { refreshOnlineNodes } from './jobs/refresh';
import { scheduleJobs, type Scheduler } from './jobs/schedule';
import { markStaleNodes } from './jobs/stale-nodes';
import { agentServiceRegistration } from './server/agent-service';
import { bindServer, createGrpcServer, serverCredentials, stopServer } from './server/grpc-server';
import { createLivenessTracker, type LivenessTracker } from './server/liveness';
import { createNodeLimiter, type NodeLimits } from './server/node-limits';
import { createSessionRegistry, type SessionRegistry } from './server/node-session';
import { createRelyingParty } from './access/oidc-relying-party';
import { createService, type Service } from './service';
import { createStore, openDatabase, schemaVersion, type Store } from './store';
import { startWebConsole, type WebConsole, type WebConsoleOptions } from './web/web-console';

export type ControllerState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export const JOB_NAMES = ['refresh', 'stale', 'expire', 'backup', 'checkpoint'] as const;
export type JobName = (typeof JOB_NAMES)[number];

/** The running controller's parts (tests and the demo reach them; transports get only the service). */
export interface ControllerContext {
  config: ControllerConfig;
  clock: Clock;
  log: Logger;
  store: Store;
  audit: AuditLog;
  dispatcher: Dispatcher;
  events: EventBus;
  sessions: SessionRegistry;
  /** The ONE service layer every transport calls. */
  service: Service;
  pki: ControllerPki;
  /** Enrollment tokens, node certificates and their checks (controller/enroll). */
  enrollment: Enrollment;
  /** The escrow engine; FP_ACTION_UNSUPPORTED when escrow.enabled is false. */
  escrow(): Escrow;
  /** host:port of the admin API. */
  adminAddress: string;
  /** The web console, when web.enabled. */
  web?: WebConsole;
  /** Audit sinks and the /metrics, /healthz, /readyz listener (controller/integrations). */
  integrations: Integrations;
  /** Signed checkpoints, the Merkle tree and the log's integrity (controller/audit/audit-trail.ts). */
  trail: AuditTrail;
  /** Files under the state folder. */
  paths: {
    stateDir: string;
    database: string;
    secretsKey: string;
    checkpointFile: string;
    /** The audit signing key (0600) and its public key (vkey). */
    signingKey: string;
    verifierKey: string;
    pkiDir: string;
    backupDir: string;
  };
}

export interface ControllerDeps {
  clock?: Clock;
  log?: Logger;
  /** Where FLEETPASS_ESCROW_KEY is read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Set false in tests that drive jobs by hand with runJob() (and escrow rotations by hand). */
  scheduleJobs?: boolean;
  /** Authentication flood limits of the admin API (tests lower them). */
  adminFloodLimits?: Partial<FloodLimits>;
  /** Web console settings beyond the config (tests shorten sessions and heartbeats). */
  web?: WebConsoleOptions;
  /** Wait for a Hello this long before dropping a new stream (default 30 s). */
  helloTimeoutMs?: number;
  /** Per-node flood limits (server/node-limits.ts); tests lower them. */
  nodeLimits?: Partial<NodeLimits>;
  /** Enrollment limits (tests); the certificate lifetime comes from config tls.nodeCertificateDays. */
  enrollSettings?: Partial<EnrollSettings>;
  /** Hooks of the integrations: the signed checkpoint shipped to sinks, the integrity check. */
  integrations?: Pick<IntegrationsDeps, 'checkpoint' | 'integrityCheck'>;
  /** How soon after a write its signed checkpoint is taken (default 1000 ms). */
  checkpointDelayMs?: number;
}

export interface StartedController {
  agentPort: number;
  agentAddress: string;
  caFingerprint: string;
  adminAddress: string;
  /** https://host:port of the web console (undefined when web.enabled is false). */
  webUrl?: string;
}

export interface Controller {
  readonly state: ControllerState;
  start(): Promise<StartedController>;
  shutdown(reason?: string): Promise<void>;
  /** Available once running. */
  context(): ControllerContext;
  /** Runs a job now and resolves with its result. */
  runJob(name: JobName): Promise<unknown>;
}

function pkiHosts(config: ControllerConfig): string[] {
  const host = config.agentListen.slice(0, config.agentListen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  // Agents dial the machine's name more often than not, so it is always in the certificate.
  const hosts = new Set(['localhost', '127.0.0.1', hostname().toLowerCase(), ...config.tls.hosts]);
  if (host !== '0.0.0.0' && host !== '::') hosts.add(host);
  return [...hosts];
}

/** Creates a controller; nothing is opened until start(). */
export function createController(config: ControllerConfig, deps: ControllerDeps = {}): Controller {
  const clock = deps.clock ?? systemClock;
  const rootLog = deps.log ?? createLogger({ level: config.log.level, name: 'fleetpass-controller' });
  const log = rootLog.child({ component: 'controller' });
  let state: ControllerState = 'created';
  let ctx: ControllerContext | undefined;
  let server: Server | undefined;
  let scheduler: Scheduler | undefined;
  let liveness: LivenessTracker | undefined;
  let integrations: Integrations | undefined;
  let auditTrail: AuditTrail | undefined;
  let accepting = false;
  const inflight = new Set<Promise<unknown>>();
  let escrow: EscrowRuntime | undefined;
  let adminApi: AdminApiServer | undefined;
  let web: WebConsole | undefined;
  let jobs: Record<JobName, () => unknown> | undefined;

  function setState(next: ControllerState, fields: Record<string, unknown> = {}): void {
    log.info({ from: state, to: next, ...fields }, 'controller state');
    state = next;
  }

  function track(p: Promise<unknown>): void {
    const t = p.catch((err) => log.error({ err }, 'background work failed')).finally(() => inflight.delete(t));
    inflight.add(t);
  }

  async function start(): Promise<StartedController> {
    if (state !== 'created') throw new FleetpassError('FP_INTERNAL', `cannot start a controller that is ${state}`);
    setState('starting', { stateDir: config.stateDir });
    const paths = {
      stateDir: config.stateDir,
      database: config.database,
      secretsKey: join(config.stateDir, 'secrets.key'),
      checkpointFile: join(config.stateDir, 'audit-checkpoints.log'),
      signingKey: join(config.stateDir, 'audit-signing.key'),
      verifierKey: join(config.stateDir, 'audit-signing.vkey'),
      pkiDir: config.tls.dir,
      backupDir: config.backup.dir,
    };
    let store: Store | undefined;
    try {
      mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
      // When the data file holds escrow, a missing or wrong master key stops the start before the file is
      // opened for writing, with nothing changed (FP_ESCROW_KEY_MISSING / FP_ESCROW_KEY_WRONG). A first
      // start creates the key later, once the data file has opened.
      const env = deps.env ?? process.env;
      const masterKey = config.escrow.enabled
        ? checkDatabaseKey({ keyFile: config.escrow.keyFile, env, databaseFile: config.database })
        : undefined;
      const db = openDatabase(config.database, { log: rootLog.child({ component: 'store' }) });
      store = createStore(db);
      const sealed = db.prepare('SELECT count(*) FROM pending_secrets').pluck().get() as number;
      const vault = createSecretVault(db, loadOrCreateSecretKey(paths.secretsKey, sealed === 0));
      const census = vault.census();
      if (census.foreignKey > 0) {
        throw new FleetpassError(
          'FP_KEY_INVALID',
          `${census.foreignKey} waiting password(s) were sealed under another key than ${paths.secretsKey}; restore the matching key file`,
        );
      }
      const pki = await ensureControllerPki(paths.pkiDir, { hosts: pkiHosts(config) });
      const trail = createAuditTrail({
        db,
        clock,
        log: rootLog.child({ component: 'audit' }),
        signing: loadOrCreateSigningKey(paths.signingKey, paths.verifierKey),
        checkpointFile: paths.checkpointFile,
        checkpointDelayMs: deps.checkpointDelayMs,
        onProblem: () => integrations?.checkIntegrity(),
      });
      auditTrail = trail;
      integrations = createIntegrations({
        config,
        db,
        clock,
        log: rootLog.child({ component: 'integrations' }),
        checkpointFile: paths.checkpointFile,
        integrityCheck: () => trail.verify(5000),
        integrityNow: () => trail.integrity(),
        checkpoint: (r) => trail.checkpointFor(r),
        ...deps.integrations,
      });
      // The start-up check: a log that lost what its signed checkpoints or witnesses saw takes no change.
      const intact = integrations.checkIntegrity();
      const audit = integrations.guardAudit(trail.watch(createAuditLog(db, clock)));
      const events = createEventBus(rootLog.child({ component: 'events' }));
      const sessions = createSessionRegistry();
      liveness = createLivenessTracker(store, rootLog.child({ component: 'liveness' }));
      const dispatcher = createDispatcher({
        store,
        audit,
        vault,
        channels: sessions,
        events,
        clock,
        log: rootLog.child({ component: 'dispatch' }),
        settings: { operationTtlSeconds: config.operationTtlSeconds, resultGraceSeconds: config.resultGraceSeconds },
      });
      const s = store;
      recordAudited(db, () => {
        const offline = s.nodes.markAllOffline();
        if (!intact.ok) return;
        audit.append({
          actor: CONTROLLER_ACTOR,
          action: 'controller.started',
          outcome: 'ok',
          details: { schemaVersion: schemaVersion(db), nodesMarkedOffline: offline, caFingerprint: pki.caFingerprint },
        });
      });
      if (!intact.ok)
        log.error(
          { code: 'FP_AUDIT_INTEGRITY', problem: intact.problem },
          'audit log integrity lost at start: changes are refused, reads are served',
        );
      const enrollment = createEnrollment({
        store,
        audit,
        pki,
        sessions,
        events,
        clock,
        log: rootLog.child({ component: 'enroll' }),
        settings: { nodeCertificateDays: config.tls.nodeCertificateDays, ...deps.enrollSettings },
      });
      const policy = compilePolicy(config.policy);
      const jlog = rootLog.child({ component: 'jobs' });
      if (config.escrow.enabled) {
        escrow = startEscrow({
          config: config.escrow,
          policy,
          store,
          audit,
          dispatcher,
          clock,
          log: rootLog.child({ component: 'escrow' }),
          masterKey,
          env,
          scheduleJobs: deps.scheduleJobs !== false,
          jobLog: jlog,
        });
      } else {
        log.info('password escrow is turned off');
      }
      const oidc = config.auth.oidc;
      const relyingParty = oidc
        ? createRelyingParty({
            config: oidc,
            clock,
            // The console's own address is known once it listens (port 0 in tests).
            redirectUrl: () => oidc.redirectUrl ?? `${web?.url ?? `https://${config.webListen}`}/auth/oidc/callback`,
          })
        : undefined;
      const service = createService({
        auth: config.auth,
        relyingParty,
        store,
        audit,
        dispatcher,
        sessions,
        clock,
        log: rootLog.child({ component: 'service' }),
        policy,
        caPem: pki.ca.certPem,
        checkpointFile: paths.checkpointFile,
        verifyAudit: () => trail.verify(),
        enrollment: enrollment.deps,
        escrow: escrow?.engine,
        floodLimits: deps.adminFloodLimits,
      });
      const escrowEngine = escrow?.engine;
      ctx = {
        config,
        clock,
        log: rootLog,
        store,
        audit,
        dispatcher,
        events,
        sessions,
        service,
        pki,
        enrollment,
        integrations,
        trail,
        paths,
        adminAddress: '',
        escrow() {
          if (!escrowEngine)
            throw new FleetpassError(
              'FP_ACTION_UNSUPPORTED',
              'password escrow is turned off on this controller (escrow.enabled: false)',
            );
          return escrowEngine;
        },
      };
      await integrations.start(pki);

      accepting = true;
      server = createGrpcServer(
        {
          keepaliveTimeSeconds: config.keepalive.timeSeconds,
          keepaliveTimeoutSeconds: config.keepalive.timeoutSeconds,
          maxMessageBytes: config.maxMessageBytes,
          log: rootLog.child({ component: 'agent-server' }),
        },
        [
          agentServiceRegistration({
            store,
            audit,
            dispatcher,
            sessions,
            events,
            liveness,
            clock,
            log: rootLog.child({ component: 'agent-server' }),
            settings: {
              heartbeatSeconds: config.heartbeatSeconds,
              reportIntervalSeconds: config.reportIntervalSeconds,
              helloTimeoutMs: deps.helloTimeoutMs,
              accountHistory: config.accountHistory,
            },
            identify: enrollment.identify,
            enroll: enrollment.handlers.enroll,
            renew: enrollment.handlers.renew,
            accepting: () => accepting,
            track,
            limits: createNodeLimiter(deps.nodeLimits),
          }),
        ],
      );
      // The client certificate is asked for, not required: Enroll comes before a node has one, and every
      // other call checks it (controller/enroll/peer-certificate.ts). The chain carries the CA so an
      // enrolling agent can check it against the fingerprint it pinned before it sends its token.
      const agentPort = await bindServer(
        server,
        config.agentListen,
        serverCredentials({
          caPem: pki.ca.certPem,
          certPem: `${pki.server.certPem.trimEnd()}\n${pki.ca.certPem}`,
          keyPem: pki.server.keyPem,
          requireClientCert: false,
        }),
      );
      liveness.start();

      adminApi = await startAdminApi({ config, pki, service, log: rootLog.child({ component: 'admin-api' }) });
      ctx.adminAddress = adminApi.address;
      if (config.web.enabled) {
        web = await startWebConsole({
          listen: config.webListen,
          pki,
          service,
          clock,
          log: rootLog.child({ component: 'web' }),
          options: {
            ...deps.web,
            sessions: { absoluteMs: config.auth.sessionMaxAgeSeconds * 1000, ...deps.web?.sessions },
          },
        });
        ctx.web = web;
      }

      const live = liveness;
      jobs = {
        refresh: () => refreshOnlineNodes({ sessions, log: jlog }),
        stale: () =>
          markStaleNodes(
            { store: s, sessions, liveness: live, events, log: jlog, staleAfterSeconds: config.staleAfterSeconds },
            clock,
          ),
        expire: () => expireOperations({ dispatcher }),
        backup: () => backupDatabase({ db, dir: paths.backupDir, keep: config.backup.keep, log: jlog }, clock),
        checkpoint: () => checkpointAudit({ db, audit, trail, file: paths.checkpointFile, log: jlog }),
      };
      if (deps.scheduleJobs !== false) {
        scheduler = scheduleJobs(
          JOB_NAMES.map((name) => ({ name, cron: config.jobs[name], run: jobs![name] })),
          jlog,
        );
      }
      const agentAddress = `${config.agentListen.slice(0, config.agentListen.lastIndexOf(':'))}:${agentPort}`;
      setState('running', {
        agentAddress,
        adminAddress: adminApi.address,
        webUrl: web?.url,
        database: config.database,
        caFingerprint: pki.caFingerprint,
      });
      return {
        agentPort,
        agentAddress,
        caFingerprint: pki.caFingerprint,
        adminAddress: adminApi.address,
        webUrl: web?.url,
      };
    } catch (e) {
      setState('failed', { err: e });
      accepting = false;
      await scheduler?.stop().catch(() => undefined);
      await stopTransports().catch(() => undefined);
      if (server) server.forceShutdown();
      liveness?.stop();
      auditTrail?.stop();
      await integrations?.shutdown(0).catch(() => undefined);
      try {
        store?.db.close();
      } catch {
        // already closed
      }
      throw e;
    }
  }

  /** Web console, admin API, then escrow (its pass in progress finishes); each failure is logged. */
  async function stopTransports(): Promise<void> {
    const steps: Array<[string, (() => Promise<void>) | undefined]> = [
      ['web console', web?.stop],
      ['admin api', adminApi?.stop],
      ['escrow', escrow?.stop],
    ];
    web = undefined;
    adminApi = undefined;
    escrow = undefined;
    for (const [what, stop] of steps) {
      try {
        await stop?.();
      } catch (err) {
        log.error({ err, what }, 'stop failed');
      }
    }
  }

  async function shutdown(reason = 'requested'): Promise<void> {
    if (state !== 'running') {
      if (state === 'created') setState('stopped', { reason });
      return;
    }
    setState('stopping', { reason });
    accepting = false;
    const c = ctx!;
    await scheduler?.stop();
    await stopTransports();
    c.enrollment.shutdown();
    c.sessions.closeAll('controller shutting down');
    if (server) await stopServer(server, 5000);
    await Promise.all([...inflight]);
    liveness?.stop();
    c.trail.stop();
    try {
      const intact = c.trail.integrity().ok;
      recordAudited(c.store.db, () => {
        c.store.nodes.markAllOffline();
        if (intact) c.audit.append({ actor: CONTROLLER_ACTOR, action: 'controller.stopped', outcome: 'ok', reason });
      });
      // Never a checkpoint over a log that lost what it held: the damage stays visible at the next start.
      if (intact) {
        const signed = c.trail.checkpointNow();
        writeCheckpoint(c.store.db, c.audit, c.paths.checkpointFile, undefined, signed?.note);
        c.trail.checkpointNow();
      }
    } catch (err) {
      log.error({ err }, 'cannot record the stop in the audit log');
    }
    await c.integrations.shutdown().catch((err: unknown) => log.error({ err }, 'integrations shutdown failed'));
    c.store.db.close();
    setState('stopped', { reason });
  }

  return {
    get state() {
      return state;
    },
    start,
    shutdown,
    context() {
      if (!ctx || state !== 'running') throw new FleetpassError('FP_UNAVAILABLE', `the controller is ${state}`);
      return ctx;
    },
    async runJob(name) {
      if (!jobs || state !== 'running') throw new FleetpassError('FP_UNAVAILABLE', `the controller is ${state}`);
      return scheduler ? scheduler.runNow(name) : jobs[name]();
    },
  };
}
