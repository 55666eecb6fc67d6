/**
 * One node's Connect stream from first byte to close. Identity comes from the client certificate; the
 * first message must be a Hello naming the same node (a mismatch is audited and refused). Then the
 * node is recorded online, welcomed, given its pending operations, and its reports, results and
 * heartbeats are handled until the stream ends. A failure to record a result closes the stream, so the
 * node reconnects and the redelivered operation brings the result again from the agent's journal.
 * Per-node limits (node-limits.ts) refuse a node that opens streams, sends messages or sends results for
 * operations it was never sent faster than any healthy agent would, audited once per window.
 */
import type { Clock } from '../../shared/clock';
import { FleetpassError, asFleetpassError, toGrpcError } from '../../shared/errors';
import type { ConnectRequest, Hello } from '../../shared/gen/fleetpass/v1/agent';
import type { Logger } from '../../shared/logger';
import { recordAudited, type AuditLog } from '../audit';
import { nodeActor, type Dispatcher, type EventBus } from '../dispatch';
import type { Store } from '../store';
import { createSkewWatch } from './clock-skew';
import type { LivenessTracker } from './liveness';
import { applyStateReport, helloFacts, type HistoryBounds } from './node-messages';
import { assertReportWithinBounds } from './report-bounds';
import { createNodeSession, type ConnectCall, type NodeSession, type SessionRegistry } from './node-session';
import { identifyCaller, type CallerIdentity } from './node-identity';
import type { LimitVerdict, NodeLimiter } from './node-limits';

export interface ConnectDeps {
  store: Store;
  audit: AuditLog;
  dispatcher: Dispatcher;
  sessions: SessionRegistry;
  events: EventBus;
  liveness: LivenessTracker;
  clock: Clock;
  log: Logger;
  /** clockSkewWarnSeconds: heartbeats further off the controller's clock are logged (default 60). */
  settings: {
    heartbeatSeconds: number;
    reportIntervalSeconds: number;
    helloTimeoutMs?: number;
    clockSkewWarnSeconds?: number;
    /** How much state history is kept per node and account (config accountHistory); unbounded when absent. */
    accountHistory?: HistoryBounds;
  };
  /** Replaceable for enrollment/revocation (issue 7); defaults to the certificate's CN. May throw a FleetpassError to refuse. */
  identify?: (call: ConnectCall) => CallerIdentity | undefined;
  /** False while the controller drains for shutdown: new streams are refused. */
  accepting: () => boolean;
  /** Async work (deliveries) to await on shutdown. */
  track: (p: Promise<unknown>) => void;
  /** Per-node flood limits (streams, messages, rejected results); none when absent. */
  limits?: NodeLimiter;
}

function refuse(call: ConnectCall, err: FleetpassError, log: Logger): void {
  log.warn({ code: err.code, reason: err.message }, 'connection refused');
  call.emit('error', toGrpcError(err));
}

/** Audits a refusal; a failing audit write only makes the refusal louder in the log. */
function auditRefusal(
  deps: ConnectDeps,
  nodeId: string,
  action: string,
  reason: string,
  details: Record<string, unknown>,
): void {
  try {
    recordAudited(deps.store.db, () =>
      deps.audit.append({ actor: nodeActor(nodeId || 'unknown'), action, nodeId, outcome: 'refused', reason, details }),
    );
  } catch (err) {
    deps.log.error({ err, nodeId, action }, 'cannot audit a refused connection');
  }
}

/** Handles one Connect call. */
export function handleConnect(deps: ConnectDeps, call: ConnectCall): void {
  const peer = call.getPeer();
  let log = deps.log.child({ peer });
  if (!deps.accepting()) return refuse(call, new FleetpassError('FP_SHUTTING_DOWN'), log);
  let identity: CallerIdentity | undefined;
  try {
    identity = (deps.identify ?? identifyCaller)(call);
  } catch (e) {
    // The identity check refused the certificate (enrollment: none, another CA's, revoked, replaced).
    const err = asFleetpassError(e);
    const refusedId = typeof err.details.nodeId === 'string' ? err.details.nodeId : '';
    auditRefusal(deps, refusedId, 'node.connect_refused', err.message, { peer, code: err.code, ...err.details });
    return refuse(call, err, log);
  }
  if (!identity) {
    auditRefusal(deps, '', 'node.connect_refused', 'no node identity in the client certificate', { peer });
    return refuse(call, new FleetpassError('FP_NODE_IDENTITY_MISMATCH', 'the client certificate names no node'), log);
  }
  const nodeId = identity.nodeId;
  log = log.child({ nodeId });
  const known = deps.store.nodes.get(nodeId);
  if (known?.revoked) {
    auditRefusal(deps, nodeId, 'node.connect_refused', 'the node is revoked', {
      peer,
      fingerprint: identity.fingerprint,
    });
    return refuse(call, new FleetpassError('FP_NODE_REVOKED'), log);
  }
  const limits = deps.limits;
  const w = limits?.limits.windowSeconds;

  /** A node over a limit: audited and logged once per window (a flood must not flood the audit log), always refused. */
  function limited(verdict: LimitVerdict, what: string): FleetpassError {
    const reason = `${what}; node ${nodeId} is refused for the rest of the ${w}-second window`;
    if (verdict === 'first') {
      auditRefusal(deps, nodeId, 'node.rate_limited', reason, { peer, limit: what });
      log.warn({ limit: what, windowSeconds: w }, 'node rate limited');
    }
    return new FleetpassError('FP_RATE_LIMITED', reason);
  }

  if (limits) {
    const verdict = limits.connect(nodeId);
    if (verdict !== 'ok')
      return refuse(
        call,
        limited(verdict, `more than ${limits.limits.connectsPerWindow} streams opened within ${w} seconds`),
        log,
      );
  }
  const bucket = limits?.bucket();

  let session: NodeSession | undefined;
  let ended = false;
  const skew = createSkewWatch(log, deps.settings.clockSkewWarnSeconds);
  const helloTimer = setTimeout(() => {
    if (!session && !ended) {
      ended = true;
      refuse(call, new FleetpassError('FP_INVALID_ARGUMENT', 'no hello within the time allowed'), log);
    }
  }, deps.settings.helloTimeoutMs ?? 30_000);
  helloTimer.unref();

  function onHello(hello: Hello): void {
    clearTimeout(helloTimer);
    if (hello.nodeId !== nodeId) {
      auditRefusal(deps, nodeId, 'node.identity_mismatch', 'the hello names another node than the certificate', {
        claimed: hello.nodeId.slice(0, 100),
        peer,
      });
      ended = true;
      return refuse(
        call,
        new FleetpassError(
          'FP_NODE_IDENTITY_MISMATCH',
          `the certificate is for node ${nodeId} but the hello says ${JSON.stringify(hello.nodeId.slice(0, 100))}`,
        ),
        log,
      );
    }
    const now = deps.clock.now();
    let facts: ReturnType<typeof helloFacts>;
    try {
      facts = helloFacts(hello, identity!.certificateExpires, log);
    } catch (e) {
      const err = asFleetpassError(e);
      auditRefusal(deps, nodeId, 'node.connect_refused', err.message, { peer, code: err.code });
      ended = true;
      return refuse(call, err, log);
    }
    // The hello's labels are only reported ones; the labels selectors match come from the enrollment (an admin).
    facts.adminLabels = identity!.labels;
    recordAudited(deps.store.db, () => {
      deps.store.nodes.recordHello(nodeId, facts, now);
      deps.audit.append({
        actor: nodeActor(nodeId),
        action: 'node.connected',
        nodeId,
        outcome: 'online',
        details: {
          hostname: facts.hostname,
          platform: facts.platform,
          agentVersion: facts.agentVersion,
          peer,
          fingerprint: identity!.fingerprint,
        },
      });
    });
    const s = createNodeSession(call, nodeId, now, log);
    const previous = deps.sessions.register(s);
    session = s;
    log.info(
      { sessionId: s.id, replaced: previous?.id, hostname: facts.hostname, agentVersion: facts.agentVersion },
      'node connected',
    );
    s.send({
      message: {
        $case: 'welcome',
        welcome: {
          nodeId,
          heartbeatSeconds: deps.settings.heartbeatSeconds,
          reportIntervalSeconds: deps.settings.reportIntervalSeconds,
        },
      },
    });
    deps.events.emit({ type: 'node', change: 'online', node: deps.store.nodes.get(nodeId)! });
    deps.track(deps.dispatcher.deliverPending(nodeId));
  }

  function onMessage(msg: ConnectRequest): void {
    const m = msg.message;
    if (!session) {
      if (m?.$case !== 'hello') {
        ended = true;
        clearTimeout(helloTimer);
        return refuse(call, new FleetpassError('FP_INVALID_ARGUMENT', 'the first message must be a hello'), log);
      }
      return onHello(m.hello);
    }
    if (!m) return; // nothing this controller knows (a newer agent's message): ignored, the bucket still counted it
    const now = deps.clock.now();
    deps.liveness.touch(nodeId, now);
    switch (m.$case) {
      case 'hello':
        log.warn('second hello on one stream ignored');
        return;
      case 'heartbeat':
        deps.liveness.touch(nodeId, now, m.heartbeat.busy);
        skew.observe(m.heartbeat.sent, now);
        return;
      case 'stateReport': {
        try {
          assertReportWithinBounds(m.stateReport);
        } catch (e) {
          // Refused whole and audited once per window: a node resending it every second must not flood the audit.
          const err = asFleetpassError(e);
          if ((limits?.refusedReport(nodeId) ?? 'first') === 'first') {
            auditRefusal(deps, nodeId, 'node.report_refused', err.message, { peer, code: err.code });
            log.warn({ code: err.code, reason: err.message, windowSeconds: w }, 'state report refused');
          }
          return;
        }
        const changes = applyStateReport(
          deps.store,
          nodeId,
          m.stateReport,
          deps.clock,
          log,
          deps.settings.accountHistory,
        );
        log.debug(
          { accounts: m.stateReport.accounts.length, changed: changes.length, trigger: m.stateReport.trigger },
          'state report',
        );
        if (changes.length) deps.events.emit({ type: 'accounts', nodeId, changes });
        return;
      }
      case 'result': {
        const verdict = deps.dispatcher.handleResult(nodeId, m.result);
        if (limits && !verdict.accepted && verdict.code === 'FP_OPERATION_UNKNOWN') {
          const v = limits.rejectedResult(nodeId);
          if (v !== 'ok')
            cutOff(
              limited(
                v,
                `more than ${limits.limits.rejectedResultsPerWindow} results for operations it was not sent within ${w} seconds`,
              ),
            );
        }
        return;
      }
    }
  }

  /** Ends the stream for a node that went over a limit. */
  function cutOff(err: FleetpassError): void {
    ended = true;
    clearTimeout(helloTimer);
    if (session) session.close('rate limited', err);
    else refuse(call, err, log);
    onEnd('rate-limited');
  }

  function onEnd(how: string): void {
    clearTimeout(helloTimer);
    if (!session) return;
    const s = session;
    session = undefined;
    s.markClosed();
    if (!deps.sessions.unregister(s)) return; // replaced by a newer stream: the node is still online
    const now = deps.clock.now();
    deps.liveness.flush();
    try {
      recordAudited(deps.store.db, () => {
        deps.store.nodes.setOffline(nodeId, now);
        deps.audit.append({
          actor: nodeActor(nodeId),
          action: 'node.disconnected',
          nodeId,
          outcome: 'offline',
          details: { how },
        });
      });
    } catch (err) {
      log.error({ err }, 'cannot record the node offline');
    }
    log.info({ sessionId: s.id, how }, 'node disconnected');
    const node = deps.store.nodes.get(nodeId);
    if (node) deps.events.emit({ type: 'node', change: 'offline', node });
  }

  call.on('data', (msg: ConnectRequest) => {
    if (ended && !session) return;
    if (bucket && !bucket.take()) {
      return cutOff(
        limited(
          limits!.flooded(nodeId),
          `more than ${limits!.limits.messageBurst} messages at once or ${limits!.limits.messagesPerSecond} per second on one stream`,
        ),
      );
    }
    try {
      onMessage(msg);
    } catch (e) {
      const err = asFleetpassError(e);
      log.error({ err, code: err.code }, 'handling a node message failed; closing the stream');
      ended = true;
      if (session) session.close('message handling failed', err);
      else refuse(call, err, log);
      onEnd('handler-error');
    }
  });
  call.on('end', () => {
    // The agent half-closed: answer with OK so it knows everything it sent was read.
    try {
      call.end();
    } catch {
      // already ended
    }
    onEnd('end');
  });
  call.on('cancelled', () => onEnd('cancelled'));
  call.on('error', () => onEnd('error'));
  call.on('close', () => onEnd('close'));
}
