/**
 * The agent daemon's lifecycle: `createAgent(config, deps)` → `start()` → `shutdown()`.
 *
 * States (every transition is logged as "agent state changed"):
 *   created    → built, nothing opened yet
 *   starting   → start() is opening the journal and reporting interrupted operations; a shutdown now
 *                lets that finish (it is journal work, not to be cut short), then stops without connecting
 *   connecting → opening a stream to the controller (hello sent)
 *   connected  → the controller answered on the stream
 *   backoff    → the stream ended; waiting a jittered delay before reconnecting (operations already
 *                received still finish, results wait in the journal)
 *   draining   → shutdown asked: operations in flight (received) finish and their results are sent; new
 *                ones are neither started nor answered, so the controller sends them again after the restart
 *   stopped    → timers cleared, stream closed, journal closed
 */
import { clampControllerSeconds } from './controller-intervals';
import type { Logger } from '../shared/logger';
import { systemClock, type Clock } from '../shared/clock';
import { FleetpassError } from '../shared/errors';
import type { Backend, OperationResult } from '../shared/gen/fleetpass/v1/common';
import { StateReportTrigger, type ConnectResponse, type Hello, type Operation } from '../shared/gen/fleetpass/v1/agent';
import type { AccountBackend } from './backends/backend';
import { createBackends } from './backends/registry';
import { createBusyProbe, type BusyProbe } from './busy';
import type { AgentConfig } from './config';
import { createConnection, type Connection, type LinkState } from './connection';
import { recoverPendingCredentials } from './enroll/credential-files';
import { createRenewal, type Renewal } from './enroll/renewal';
import { createExecutor, type Executor } from './executor';
import { openJournal, type Journal } from './journal';
import { createPolicy, type Policy } from './policy';
import { createReporter, type Reporter } from './reporter';
import { readTlsMaterial } from './tls-material';
import { AGENT_VERSION } from './version';

export type AgentState = 'created' | 'starting' | 'connecting' | 'connected' | 'backoff' | 'draining' | 'stopped';

export interface AgentDeps {
  readonly log: Logger;
  readonly clock?: Clock;
  /** Backends to use instead of building them from config (tests inject a test-only backend here). */
  readonly backends?: ReadonlyMap<Backend, AccountBackend>;
  readonly busy?: BusyProbe;
  /** Uniform [0,1) for backoff jitter. */
  readonly random?: () => number;
}

export interface Agent {
  readonly state: AgentState;
  /** The node id from the certificate (known after start). */
  readonly nodeId: string | undefined;
  /** Opens the journal, reports interrupted operations, and starts connecting. Throws on bad TLS files or journal. */
  start(): Promise<void>;
  /**
   * Drains (waits for the operation in flight, sends its result), then closes everything. Idempotent; safe
   * while start() runs (waits for it, then stops without connecting).
   */
  shutdown(): Promise<void>;
}

/** Builds an agent; nothing is opened until `start()`. */
export function createAgent(config: AgentConfig, deps: AgentDeps): Agent {
  const log = deps.log.child({ component: 'agent' });
  const clock = deps.clock ?? systemClock;
  const policy: Policy = createPolicy(config.policy);
  const busy = deps.busy ?? createBusyProbe(config.busyCheck, deps.log);
  let state: AgentState = 'created';
  let nodeId: string | undefined;
  let backends: ReadonlyMap<Backend, AccountBackend> | undefined;
  let journal: Journal | undefined;
  let executor: Executor | undefined;
  let reporter: Reporter | undefined;
  let connection: Connection | undefined;
  let renewal: Renewal | undefined;
  let heartbeatSeconds = config.heartbeatSeconds;
  let reportIntervalSeconds = config.reportIntervalSeconds;
  const timers = new Map<string, NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let shutdownPromise: Promise<void> | undefined;
  let startPromise: Promise<void> | undefined;
  let stopRequested = false;

  function setState(next: AgentState, fields: Record<string, unknown> = {}): void {
    if (next === state) return;
    log.info({ from: state, to: next, ...fields }, 'agent state changed');
    state = next;
  }

  function every(name: string, seconds: number, fn: () => Promise<unknown>): void {
    const old = timers.get(name);
    if (old) clearInterval(old);
    if (seconds <= 0) return;
    let running = false;
    const t = setInterval(() => {
      if (running || state !== 'connected') return;
      running = true;
      fn()
        .catch((e) => log.warn({ err: e, timer: name }, 'periodic task failed'))
        .finally(() => (running = false));
    }, seconds * 1000);
    t.unref();
    timers.set(name, t);
  }

  function startTimers(): void {
    every('heartbeat', heartbeatSeconds, async () => {
      await connection!.send({ message: { $case: 'heartbeat', heartbeat: { sent: clock.now(), busy: await busy() } } });
    });
    every('report', reportIntervalSeconds, () => reporter!.reportAll(StateReportTrigger.STATE_REPORT_TRIGGER_INTERVAL));
    every('change', config.changeCheckSeconds, () => reporter!.checkChanges());
  }

  /** Sends a result; the journal marks it sent only once delivery is confirmed, else it goes again on reconnect. */
  function sendResult(result: OperationResult): Promise<boolean> {
    return connection!.send({ message: { $case: 'result', result } }, () => journal!.markSent(result.operationId));
  }

  async function sendUnsent(): Promise<void> {
    for (const r of journal!.unsent()) {
      if (!(await sendResult(r))) return;
      log.info({ operationId: r.operationId }, 'sent a result kept while disconnected');
    }
  }

  function handleOperation(op: Operation): void {
    if (state === 'draining' || state === 'stopped') {
      // Not started and not answered: the controller keeps it pending and sends it again when this node
      // reconnects (a REFUSED answer would end it for good, though nothing was wrong with it).
      log.warn({ operationId: op.id }, 'operation not started while draining; left for the controller to send again');
      return;
    }
    const work = executor!
      .execute(op)
      .then(async (result) => {
        await sendResult(result);
        if (result.after && !result.replayed)
          await reporter!.reportStates([result.after], StateReportTrigger.STATE_REPORT_TRIGGER_OPERATION);
      })
      .catch((e) => log.error({ err: e, operationId: op.id }, 'operation handling failed'));
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }

  function handleMessage(msg: ConnectResponse): void {
    const m = msg.message;
    if (!m) return;
    if (m.$case === 'welcome') {
      log.info(
        {
          nodeId: m.welcome.nodeId,
          heartbeatSeconds: m.welcome.heartbeatSeconds,
          reportIntervalSeconds: m.welcome.reportIntervalSeconds,
        },
        'controller welcomed the agent',
      );
      if (m.welcome.nodeId && nodeId && m.welcome.nodeId !== nodeId)
        log.warn(
          { certificateNodeId: nodeId, controllerNodeId: m.welcome.nodeId },
          'controller names this node differently',
        );
      let changed = false;
      const heartbeat = clampControllerSeconds('heartbeatSeconds', m.welcome.heartbeatSeconds, log);
      if (heartbeat !== undefined && heartbeat !== heartbeatSeconds) {
        heartbeatSeconds = heartbeat;
        changed = true;
      }
      const report = clampControllerSeconds('reportIntervalSeconds', m.welcome.reportIntervalSeconds, log);
      if (report !== undefined && report !== reportIntervalSeconds) {
        reportIntervalSeconds = report;
        changed = true;
      }
      if (changed) startTimers();
    } else if (m.$case === 'operation') {
      handleOperation(m.operation);
    } else if (m.$case === 'refresh') {
      void reporter!.refresh(m.refresh).catch((e) => log.warn({ err: e }, 'refresh failed'));
    }
  }

  async function hello(id: string): Promise<Hello> {
    nodeId = id;
    return {
      nodeId: id,
      hostname: config.hostname,
      platform: config.platform,
      agentVersion: AGENT_VERSION,
      labels: { ...config.labels },
      backends: [...backends!.keys()],
      policy: policy.accounts.map((p) => ({ ...p, actions: [...p.actions] })),
      busy: await busy(),
    };
  }

  function onLinkState(link: LinkState, fields?: Record<string, unknown>): void {
    if (state === 'draining' || state === 'stopped') {
      log.debug({ link, ...fields }, 'link state while draining');
      return;
    }
    if (link !== 'stopped') setState(link, fields);
  }

  function start(): Promise<void> {
    if (state !== 'created')
      return Promise.reject(new FleetpassError('FP_INVALID_ARGUMENT', `the agent cannot start from state ${state}`));
    setState('starting');
    startPromise = open();
    return startPromise;
  }

  async function open(): Promise<void> {
    // A renewal cut short by a crash is finished (or undone) before the files are read.
    const recovered = recoverPendingCredentials(config.controller);
    if (recovered !== 'none') log.warn({ recovered }, 'finished an interrupted certificate swap');
    nodeId = readTlsMaterial(config.controller).nodeId;
    backends = deps.backends ?? createBackends(config.backends, { log: deps.log, clock });
    journal = openJournal({ dir: config.stateDir, clock, log: deps.log, retentionDays: config.journalRetentionDays });
    executor = createExecutor({ backends, policy, journal, busy, clock, log: deps.log });
    const interrupted = await executor.recoverInterrupted();
    if (interrupted.length > 0)
      log.warn({ operations: interrupted.map((r) => r.operationId) }, 'reported interrupted operations as failed');
    if (stopRequested) {
      // Their results stay unsent in the journal and go to the controller after the next start.
      log.info('stop requested while starting; not connecting');
      return;
    }
    connection = createConnection({
      config,
      log: deps.log,
      random: deps.random,
      handlers: {
        hello,
        onOpen() {
          reporter!.reset();
          void reporter!
            .reportAll(StateReportTrigger.STATE_REPORT_TRIGGER_CONNECT)
            .then(() => sendUnsent())
            .catch((e) => log.warn({ err: e }, 'connect report failed'));
        },
        onMessage: handleMessage,
        onState: onLinkState,
      },
    });
    reporter = createReporter({
      backends,
      managed: policy.managed(),
      log: deps.log,
      send: (report) => connection!.send({ message: { $case: 'stateReport', stateReport: report } }),
    });
    log.info(
      { nodeId, version: AGENT_VERSION, backends: backends.size, accounts: policy.managed().length },
      'agent starting',
    );
    startTimers();
    connection.start();
    renewal = createRenewal({ config, log: deps.log, clock });
    renewal.start();
  }

  async function drain(): Promise<void> {
    const from = state;
    setState('draining', { inFlight: inFlight.size });
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    for (const t of timers.values()) clearInterval(t);
    timers.clear();
    await renewal?.stop();
    if (connection) await connection.stop();
    journal?.close();
    setState('stopped', { from });
  }

  return {
    get state() {
      return state;
    },
    get nodeId() {
      return nodeId;
    },
    start,
    shutdown() {
      if (state === 'created') {
        setState('stopped');
        return Promise.resolve();
      }
      if (!shutdownPromise && startPromise && state === 'starting') {
        stopRequested = true;
        // A failed start is start()'s caller's to report; drain then closes whatever it opened.
        shutdownPromise = startPromise.catch(() => undefined).then(() => drain());
      }
      shutdownPromise ??= drain();
      return shutdownPromise;
    },
  };
}
