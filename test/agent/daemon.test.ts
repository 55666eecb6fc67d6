/**
 * The agent daemon in-process (createAgent with the TEST-ONLY memory backend) against a real grpc-js
 * AgentService on 127.0.0.1 with mutual TLS from shared/pki.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTestPki, type TestPkiFiles } from '../../shared/pki';
import { Action, Backend, OperationOutcome, type OperationResult } from '../../shared/gen/fleetpass/v1/common';
import {
  StateReportTrigger,
  type ConnectRequest,
  type Hello,
  type StateReport,
} from '../../shared/gen/fleetpass/v1/agent';
import { createAgent, type Agent } from '../../agent/daemon';
import { JOURNAL_FILE, openJournal } from '../../agent/journal';
import { systemClock } from '../../shared/clock';
import { AGENT_VERSION } from '../../agent/version';
import type { AgentConfig } from '../../agent/config';
import { createTestMemoryBackend, type TestMemoryBackend } from '../helpers/test-memory-backend';
import { startTestAgentService, type TestAgentService } from './helpers/test-agent-service';
import { captureLog, type CapturedLog } from './helpers/log-capture';
import { tempDir, testAgentConfig, testOperation } from './helpers/agent-fixtures';
import { waitUntil } from '../helpers/wait-until';

const NODE = 'nextseq-07';
let pki: TestPkiFiles;
let service: TestAgentService | undefined;
const agents: Agent[] = [];

beforeAll(async () => {
  pki = await writeTestPki(tempDir('fp-agent-pki-'), [NODE]);
});

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.shutdown()));
  await service?.stop();
  service = undefined;
});

interface Setup {
  agent: Agent;
  backend: TestMemoryBackend;
  logs: CapturedLog;
  config: AgentConfig;
}

function setup(overrides: Record<string, unknown> = {}, backend?: TestMemoryBackend, busy = false): Setup {
  const config = testAgentConfig(pki, NODE, service!.address, overrides);
  const b =
    backend ??
    createTestMemoryBackend({ accounts: { ilmnuser: {}, ilmnadmin: {}, root: { uid: 0 }, toor: { uid: 0 } } });
  const logs = captureLog();
  const agent = createAgent(config, {
    log: logs.log,
    backends: new Map([[Backend.BACKEND_LINUX, b]]),
    busy: async () => busy,
    random: () => 0.5,
  });
  agents.push(agent);
  return { agent, backend: b, logs, config };
}

const hello = (m: ConnectRequest) => (m.message?.$case === 'hello' ? m.message.hello : undefined);
const report =
  (trigger: StateReportTrigger) =>
  (m: ConnectRequest): StateReport | undefined =>
    m.message?.$case === 'stateReport' && m.message.stateReport.trigger === trigger ? m.message.stateReport : undefined;
const resultFor =
  (id: string) =>
  (m: ConnectRequest): OperationResult | undefined =>
    m.message?.$case === 'result' && m.message.result.operationId === id ? m.message.result : undefined;

describe('agent daemon over real mTLS gRPC', () => {
  it('says hello with its identity, policy and backends, then reports every managed account', async () => {
    service = await startTestAgentService({ pki });
    const { agent } = setup({}, undefined, true);
    await agent.start();
    const h: Hello = await service.waitFor(hello);
    expect(h).toEqual({
      nodeId: NODE,
      hostname: `${NODE}.lab.test`,
      platform: 'nextseq-2000',
      agentVersion: AGENT_VERSION,
      labels: { site: 'lab-a' },
      backends: [Backend.BACKEND_LINUX],
      busy: true,
      policy: [
        {
          backend: Backend.BACKEND_LINUX,
          account: 'ilmnuser',
          actions: [Action.ACTION_UNLOCK, Action.ACTION_RESET_PASSWORD, Action.ACTION_REFRESH_STATE],
        },
        { backend: Backend.BACKEND_LINUX, account: 'ilmnadmin', actions: [Action.ACTION_REFRESH_STATE] },
      ],
    });
    expect(service.streams[0].nodeId).toBe(NODE);
    expect(service.streams[0].received[0].message?.$case).toBe('hello');
    const r = await service.waitFor(report(StateReportTrigger.STATE_REPORT_TRIGGER_CONNECT));
    expect(r.complete).toBe(true);
    expect(r.accounts.map((a) => a.account)).toEqual(['ilmnuser', 'ilmnadmin']);
    await waitUntil(() => agent.state === 'connected', 5000, 'the agent to connect');
  });

  it('answers a refresh request with the request id, and only the accounts asked for', async () => {
    service = await startTestAgentService({ pki });
    const { agent, backend } = setup();
    await agent.start();
    await service.waitFor(report(StateReportTrigger.STATE_REPORT_TRIGGER_CONNECT));
    backend.failLogins('ilmnuser', 3, 'rhost=10.0.0.9');
    (await service.latest()).send({
      message: { $case: 'refresh', refresh: { requestId: 'req-1', accounts: ['ilmnuser'] } },
    });
    const r = await service.waitFor(report(StateReportTrigger.STATE_REPORT_TRIGGER_REQUEST));
    expect(r.requestId).toBe('req-1');
    expect(r.complete).toBe(false);
    expect(r.accounts).toHaveLength(1);
    expect(r.accounts[0]).toMatchObject({
      account: 'ilmnuser',
      locked: true,
      failureCount: 3,
      lastFailureSource: 'rhost=10.0.0.9',
    });
  });

  it('applies an operation once when it is delivered twice; the second answer comes from the journal', async () => {
    service = await startTestAgentService({ pki });
    const { agent, backend, logs, config } = setup();
    backend.failLogins('ilmnuser', 5);
    await agent.start();
    const stream = await service.latest();
    const secret = 'N3w-Secret-Pa55!';
    const op = testOperation({ action: Action.ACTION_RESET_PASSWORD, newSecret: secret });
    stream.send({ message: { $case: 'operation', operation: op } });
    const first = await service.waitFor(resultFor(op.id), { nth: 1 });
    stream.send({ message: { $case: 'operation', operation: op } });
    const second = await service.waitFor(resultFor(op.id), { nth: 2 });

    expect(first).toMatchObject({
      outcome: OperationOutcome.OPERATION_OUTCOME_SUCCEEDED,
      replayed: false,
      errorCode: '',
    });
    expect(first.before).toMatchObject({ locked: true, failureCount: 5 });
    expect(first.after).toMatchObject({ locked: false, failureCount: 0 });
    expect(second).toEqual({ ...first, replayed: true });
    expect(backend.calls.resetPassword).toBe(1);
    expect(backend.passwordMatches('ilmnuser', secret)).toBe(true);
    const opReport = await service.waitFor(report(StateReportTrigger.STATE_REPORT_TRIGGER_OPERATION));
    expect(opReport.accounts[0]).toMatchObject({ account: 'ilmnuser', locked: false });
    // The secret is in no log line and not in the journal.
    await agent.shutdown();
    expect(logs.text()).toContain(op.id);
    expect(logs.text()).not.toContain(secret);
    expect(readFileSync(join(config.stateDir, JOURNAL_FILE), 'utf8')).not.toContain(secret);
  });

  it('refuses an expired operation without touching the account', async () => {
    service = await startTestAgentService({ pki });
    const { agent, backend } = setup();
    backend.failLogins('ilmnuser', 3);
    await agent.start();
    const op = testOperation({ expires: new Date(Date.now() - 1000) });
    (await service.latest()).send({ message: { $case: 'operation', operation: op } });
    const r = await service.waitFor(resultFor(op.id));
    expect(r).toMatchObject({ outcome: OperationOutcome.OPERATION_OUTCOME_EXPIRED, errorCode: 'FP_OPERATION_EXPIRED' });
    expect(backend.calls.unlock).toBe(0);
    expect(backend.account('ilmnuser').failures).toBe(3);
  });

  it('refuses and reports operations outside the local policy (unlisted account, action not allowed, uid 0)', async () => {
    service = await startTestAgentService({ pki });
    const { agent, backend, logs } = setup({
      policy: {
        accounts: [
          { backend: 'linux', account: 'ilmnuser', actions: ['unlock', 'reset_password', 'refresh_state'] },
          { backend: 'linux', account: 'ilmnadmin', actions: ['refresh_state'] },
          { backend: 'linux', account: 'toor', actions: ['unlock'] },
        ],
      },
    });
    await agent.start();
    const stream = await service.latest();
    const ops = [
      testOperation({ account: 'root', action: Action.ACTION_RESET_PASSWORD, newSecret: 'x-Secret-1' }),
      testOperation({ account: 'ilmnadmin', action: Action.ACTION_UNLOCK }),
      testOperation({ account: 'toor', action: Action.ACTION_UNLOCK }),
      testOperation({ account: '../etc', action: Action.ACTION_UNLOCK }),
    ];
    for (const operation of ops) stream.send({ message: { $case: 'operation', operation } });
    const results = await Promise.all(ops.map((o) => service!.waitFor(resultFor(o.id))));
    expect(results.map((r) => [r.outcome, r.errorCode])).toEqual([
      [OperationOutcome.OPERATION_OUTCOME_REFUSED, 'FP_POLICY_DENIED'],
      [OperationOutcome.OPERATION_OUTCOME_REFUSED, 'FP_POLICY_DENIED'],
      [OperationOutcome.OPERATION_OUTCOME_REFUSED, 'FP_POLICY_DENIED'],
      [OperationOutcome.OPERATION_OUTCOME_REFUSED, 'FP_ACCOUNT_NAME_INVALID'],
    ]);
    expect(results[2].message).toMatch(/uid 0/);
    expect(backend.calls.unlock + backend.calls.resetPassword).toBe(0);
    expect(logs.lines().filter((l) => l.msg === 'operation refused')).toHaveLength(4);
  });

  it('refuses a require_idle operation while the instrument is busy, and applies it once idle', async () => {
    service = await startTestAgentService({ pki });
    let busy = true;
    const config = testAgentConfig(pki, NODE, service.address);
    const backend = createTestMemoryBackend({ accounts: { ilmnuser: {}, ilmnadmin: {} } });
    const agent = createAgent(config, {
      log: captureLog().log,
      backends: new Map([[Backend.BACKEND_LINUX, backend]]),
      busy: async () => busy,
    });
    agents.push(agent);
    await agent.start();
    const stream = await service.latest();
    const op = testOperation({ action: Action.ACTION_RESET_PASSWORD, newSecret: 'Rotated-Pa55', requireIdle: true });
    stream.send({ message: { $case: 'operation', operation: op } });
    expect(await service.waitFor(resultFor(op.id), { nth: 1 })).toMatchObject({
      outcome: OperationOutcome.OPERATION_OUTCOME_REFUSED,
      errorCode: 'FP_NODE_BUSY',
    });
    busy = false;
    stream.send({ message: { $case: 'operation', operation: op } });
    expect(await service.waitFor(resultFor(op.id), { nth: 2 })).toMatchObject({
      outcome: OperationOutcome.OPERATION_OUTCOME_SUCCEEDED,
      replayed: false,
    });
    expect(backend.calls.resetPassword).toBe(1);
  });

  it('reconnects with backoff after the controller restarts on the same port, and says hello again', async () => {
    service = await startTestAgentService({ pki });
    const port = service.port;
    const { agent, logs } = setup();
    await agent.start();
    await service.waitFor(report(StateReportTrigger.STATE_REPORT_TRIGGER_CONNECT));
    await service.stop();
    await waitUntil(() => agent.state === 'backoff', 5000, 'backoff');
    // Stay down long enough for several failed attempts.
    await waitUntil(() => logs.lines().filter((l) => l.to === 'backoff').length >= 3, 5000, 'three backoffs');
    service = await startTestAgentService({ pki, port });
    const h = await service.waitFor(hello, { timeoutMs: 5000 });
    expect(h.nodeId).toBe(NODE);
    await service.waitFor(report(StateReportTrigger.STATE_REPORT_TRIGGER_CONNECT));
    await waitUntil(() => agent.state === 'connected', 5000, 'the agent to connect');
    const delays = logs
      .lines()
      .filter((l) => l.to === 'backoff')
      .map((l) => l.delayMs as number);
    // random() = 0.5: half of min(maxMs 200, 50 * 2^attempt), growing then capped.
    expect(delays.slice(0, 4)).toEqual([25, 50, 100, 100].slice(0, Math.min(4, delays.length)));
  });

  it('keeps a result produced while disconnected and sends it after reconnecting', async () => {
    service = await startTestAgentService({ pki });
    const port = service.port;
    const { agent, backend } = setup();
    await agent.start();
    const held = backend.hold('unlock');
    const op = testOperation();
    (await service.latest()).send({ message: { $case: 'operation', operation: op } });
    await held.reached;
    await service.stop();
    held.release();
    await waitUntil(() => agent.state === 'backoff', 5000, 'the agent to back off');
    service = await startTestAgentService({ pki, port });
    const r = await service.waitFor(resultFor(op.id), { timeoutMs: 5000 });
    expect(r).toMatchObject({ outcome: OperationOutcome.OPERATION_OUTCOME_SUCCEEDED, replayed: false });
    expect(backend.calls.unlock).toBe(1);
  });

  it('drains on shutdown: the operation in flight finishes and is reported; a new one is left for after the restart', async () => {
    service = await startTestAgentService({ pki });
    const { agent, backend, logs } = setup();
    await agent.start();
    const stream = await service.latest();
    const held = backend.hold('resetPassword');
    const op = testOperation({ action: Action.ACTION_RESET_PASSWORD, newSecret: 'Drain-Pa55-word' });
    stream.send({ message: { $case: 'operation', operation: op } });
    await held.reached;
    const stopping = agent.shutdown();
    expect(agent.state).toBe('draining');
    const late = testOperation();
    stream.send({ message: { $case: 'operation', operation: late } });
    await waitUntil(
      () => logs.lines().some((l) => l.operationId === late.id && /draining/.test(String(l.msg))),
      5000,
      'the late operation to be refused while draining',
    );
    held.release();
    await stopping;
    expect(agent.state).toBe('stopped');
    const answered = service
      .messages()
      .map((m) => (m.message?.$case === 'result' ? m.message.result.operationId : undefined));
    expect(answered).toContain(op.id);
    expect(answered).not.toContain(late.id);
    expect(backend.calls.resetPassword).toBe(1);
    expect(backend.calls.unlock).toBe(0);
    const transitions = logs
      .lines()
      .filter((l) => l.msg === 'agent state changed')
      .map((l) => l.to);
    expect(transitions).toEqual(['starting', 'connecting', 'connected', 'draining', 'stopped']);
  });

  it('stops cleanly when shut down while start is still reporting interrupted operations, and sends that report later', async () => {
    service = await startTestAgentService({ pki });
    const config = testAgentConfig(pki, NODE, service.address);
    const crashed = testOperation({ action: Action.ACTION_RESET_PASSWORD, newSecret: 'Cut-Off-Pa55' });
    const before = openJournal({ dir: config.stateDir, clock: systemClock, log: captureLog().log, retentionDays: 30 });
    before.recordStarted({
      id: crashed.id,
      backend: crashed.backend,
      account: crashed.account,
      action: crashed.action,
    });
    // no close(): the last process died mid-operation
    const backend = createTestMemoryBackend({ accounts: { ilmnuser: {}, ilmnadmin: {} } });
    const logs = captureLog();
    const agent = createAgent(config, {
      log: logs.log,
      backends: new Map([[Backend.BACKEND_LINUX, backend]]),
      busy: async () => false,
    });
    agents.push(agent);
    const inspecting = backend.hold('inspect'); // start() is inside recoverInterrupted, inspecting the account
    const starting = agent.start();
    await inspecting.reached;
    expect(agent.state).toBe('starting');
    const stopping = agent.shutdown();
    inspecting.release();
    await Promise.all([starting, stopping]);
    expect(agent.state).toBe('stopped');
    expect(
      logs
        .lines()
        .filter((l) => l.msg === 'agent state changed')
        .map((l) => l.to),
    ).toEqual(['starting', 'draining', 'stopped']);
    expect(service.streams).toHaveLength(0);
    // The journal is closed and consistent: the interrupted operation has its result, waiting to be sent.
    const after = openJournal({ dir: config.stateDir, clock: systemClock, log: captureLog().log, retentionDays: 30 });
    expect(after.interrupted()).toEqual([]);
    expect(after.unsent().map((r) => [r.operationId, r.errorCode])).toEqual([[crashed.id, 'FP_OPERATION_INTERRUPTED']]);
    after.close();

    const next = createAgent(config, {
      log: captureLog().log,
      backends: new Map([[Backend.BACKEND_LINUX, backend]]),
      busy: async () => false,
    });
    agents.push(next);
    await next.start();
    expect(await service.waitFor(resultFor(crashed.id))).toMatchObject({
      errorCode: 'FP_OPERATION_INTERRUPTED',
      replayed: false,
    });
    expect(backend.calls.resetPassword).toBe(0);
  });

  it('remembers applied operations across a restart (a new agent reads the journal)', async () => {
    service = await startTestAgentService({ pki });
    const first = setup();
    await first.agent.start();
    const op = testOperation({ action: Action.ACTION_RESET_PASSWORD, newSecret: 'Once-Only-Pa55' });
    (await service.latest()).send({ message: { $case: 'operation', operation: op } });
    await service.waitFor(resultFor(op.id));
    await first.agent.shutdown();

    const backend2 = createTestMemoryBackend({ accounts: { ilmnuser: {}, ilmnadmin: {} } });
    const second = createAgent(first.config, {
      log: captureLog().log,
      backends: new Map([[Backend.BACKEND_LINUX, backend2]]),
      busy: async () => false,
    });
    agents.push(second);
    await second.start();
    await waitUntil(
      () => service!.streams.filter((s) => !s.ended).length === 1 && service!.streams.length === 2,
      5000,
      'the second agent to replace the first stream',
    );
    (await service.latest()).send({ message: { $case: 'operation', operation: op } });
    const replay = await service.waitFor(resultFor(op.id), { nth: 2 });
    expect(replay).toMatchObject({ outcome: OperationOutcome.OPERATION_OUTCOME_SUCCEEDED, replayed: true });
    expect(backend2.calls.resetPassword).toBe(0);
  });

  it('does not talk to a controller whose certificate is not from the configured CA', async () => {
    const otherPki = await writeTestPki(tempDir('fp-agent-pki-other-'), [NODE]);
    service = await startTestAgentService({ pki: otherPki });
    const { agent, logs } = setup();
    await agent.start();
    await waitUntil(() => logs.lines().filter((l) => l.to === 'backoff').length >= 2, 5000, 'two failed attempts');
    expect(service.messages()).toEqual([]);
    expect(service.streams).toEqual([]);
    expect(logs.lines().some((l) => l.msg === 'controller stream failed' && l.grpcCode === 14)).toBe(true);
  });

  it("keeps retrying with backoff when the controller refuses it, logging the controller's error code", async () => {
    service = await startTestAgentService({ pki, refuseWith: 'FP_NODE_REVOKED' });
    const { agent, logs } = setup();
    await agent.start();
    await waitUntil(() => service!.streams.length >= 3, 5000, 'three attempts');
    expect(agent.state).not.toBe('connected');
    expect(logs.lines().find((l) => l.msg === 'controller stream failed')).toMatchObject({
      code: 'FP_NODE_REVOKED',
      grpcCode: 7,
    });
  });

  it('follows the intervals the controller sets in its welcome: heartbeats and full reports', async () => {
    service = await startTestAgentService({ pki, welcome: { heartbeatSeconds: 1, reportIntervalSeconds: 1 } });
    const { agent } = setup();
    await agent.start();
    await service.waitFor(report(StateReportTrigger.STATE_REPORT_TRIGGER_CONNECT));
    const hb = await service.waitFor((m) => (m.message?.$case === 'heartbeat' ? m.message.heartbeat : undefined), {
      timeoutMs: 3000,
    });
    expect(hb.busy).toBe(false);
    expect(hb.sent).toBeInstanceOf(Date);
    const interval = await service.waitFor(report(StateReportTrigger.STATE_REPORT_TRIGGER_INTERVAL), {
      timeoutMs: 3000,
    });
    expect(interval.complete).toBe(true);
    expect(interval.accounts.map((a) => a.account)).toEqual(['ilmnuser', 'ilmnadmin']);
  });

  it('holds the intervals a controller sends to their documented range (4294967295 s would overflow the timers)', async () => {
    const huge = 4294967295;
    service = await startTestAgentService({ pki, welcome: { heartbeatSeconds: huge, reportIntervalSeconds: huge } });
    const { agent, logs } = setup();
    await agent.start();
    await service.waitFor(report(StateReportTrigger.STATE_REPORT_TRIGGER_CONNECT));
    await waitUntil(
      () => logs.lines().filter((l) => l.msg === 'controller setting out of range; clamped').length === 2,
      10_000,
      'both settings to be clamped',
    );
    const clamped = logs.lines().filter((l) => l.msg === 'controller setting out of range; clamped');
    expect(clamped.map((l) => [l.setting, l.sent, l.used])).toEqual([
      ['heartbeatSeconds', huge, 3600],
      ['reportIntervalSeconds', huge, 86400],
    ]);
    // A refresh answered is a round trip after the timers were set: an overflowed timer (1 ms) would have
    // sent heartbeats and interval reports by then; clamped ones are an hour and a day away.
    const stream = await service.latest();
    stream.send({ message: { $case: 'refresh', refresh: { requestId: 'rq-1', accounts: [] } } });
    await service.waitFor(report(StateReportTrigger.STATE_REPORT_TRIGGER_REQUEST));
    const kinds = service
      .messages()
      .map((m) => (m.message?.$case === 'stateReport' ? `report:${m.message.stateReport.trigger}` : m.message?.$case));
    expect(kinds.filter((k) => k === 'heartbeat')).toEqual([]);
    expect(kinds.filter((k) => k === `report:${StateReportTrigger.STATE_REPORT_TRIGGER_INTERVAL}`)).toEqual([]);
  });

  it('reports only the account that changed, without being asked', async () => {
    service = await startTestAgentService({ pki });
    const { agent, backend } = setup({ changeCheckSeconds: 1 });
    await agent.start();
    await service.waitFor(report(StateReportTrigger.STATE_REPORT_TRIGGER_CONNECT));
    backend.failLogins('ilmnadmin', 4, 'tty1');
    const change = await service.waitFor(report(StateReportTrigger.STATE_REPORT_TRIGGER_CHANGE), { timeoutMs: 3000 });
    expect(change.complete).toBe(false);
    expect(change.accounts.map((a) => [a.account, a.locked, a.failureCount])).toEqual([['ilmnadmin', true, 4]]);
  });
});
