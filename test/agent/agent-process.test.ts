/**
 * The REAL agent bundle as a process (test/helpers/agent-harness), with a real backend: the LRM backend
 * against the LRM simulator over HTTPS, and a real grpc-js AgentService on 127.0.0.1 with mutual TLS.
 * Covers the daemon end to end, SIGTERM draining, SIGKILL mid-operation, the journal across processes,
 * and that no secret reaches stdout or stderr.
 */
import { Action, Backend, OperationOutcome, type OperationResult } from '../../shared/gen/fleetpass/v1/common';
import { StateReportTrigger, type ConnectRequest } from '../../shared/gen/fleetpass/v1/agent';
import { openJournal } from '../../agent/journal';
import { systemClock } from '../../shared/clock';
import { silentLogger } from '../../shared/logger';
import { createAgentHarness, type AgentHarness, type SpawnedAgent } from '../helpers/agent-harness';
import { startSim, SERVICE_PASSWORD, SERVICE_USER, tempFile, writes } from '../lrm/fixtures';
import { failLogins } from '../lrm/lrm-user-client';
import type { LrmSimulator } from '../lrm/lrm-simulator';
import { startTestAgentService, type TestAgentService } from './helpers/test-agent-service';
import { testOperation } from './helpers/agent-fixtures';
import { waitUntil } from '../helpers/wait-until';

const NODE = 'nextseq-lrm-1';
let harness: AgentHarness;
let service: TestAgentService | undefined;
let sim: LrmSimulator | undefined;
const agents: SpawnedAgent[] = [];

beforeAll(async () => {
  harness = await createAgentHarness({ nodeId: NODE });
});
afterAll(() => harness.cleanup());
afterEach(async () => {
  for (const a of agents.splice(0)) {
    a.kill();
    await a.waitForExit().catch(() => undefined);
  }
  await service?.stop();
  service = undefined;
  await sim?.close();
  sim = undefined;
});

function lrmConfig(s: LrmSimulator, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    platform: 'nextseq-2000',
    controller: { address: service!.address },
    backends: {
      linux: { enabled: false },
      lrm: {
        baseUrl: s.url,
        serviceAccount: { username: SERVICE_USER, passwordFile: tempFile('svc', SERVICE_PASSWORD) },
        tls: { fingerprint: s.fingerprint },
        timeoutMs: 1500,
      },
    },
    policy: {
      accounts: [
        { backend: 'lrm', account: 'alice', actions: ['unlock', 'reset_password', 'refresh_state'] },
        { backend: 'lrm', account: 'bob', actions: ['unlock', 'refresh_state'] },
      ],
    },
    ...extra,
  };
}

function start(configFile: string): SpawnedAgent {
  const a = harness.spawnRun(configFile);
  agents.push(a);
  return a;
}

const resultFor =
  (id: string) =>
  (m: ConnectRequest): OperationResult | undefined =>
    m.message?.$case === 'result' && m.message.result.operationId === id ? m.message.result : undefined;
const lrmOp = (o: Parameters<typeof testOperation>[0] = {}) =>
  testOperation({ backend: Backend.BACKEND_LRM, account: 'alice', ...o });

describe('fleetpass-agent run (real process)', () => {
  it('connects, reports, resets a password, keeps it out of every log line, and stops cleanly on SIGTERM', async () => {
    service = await startTestAgentService({ pki: harness.pki });
    sim = await startSim();
    await failLogins(sim, 'alice', 5);
    const agent = start(harness.writeConfig(lrmConfig(sim, { stateDir: `${harness.dir}/state-reset` })));

    const hello = await service.waitFor((m) => (m.message?.$case === 'hello' ? m.message.hello : undefined), {
      timeoutMs: 10_000,
    });
    expect(hello).toMatchObject({
      nodeId: NODE,
      platform: 'nextseq-2000',
      backends: [Backend.BACKEND_LRM],
      busy: false,
    });
    expect(service.streams[0].nodeId).toBe(NODE);
    const connect = await service.waitFor((m) =>
      m.message?.$case === 'stateReport' &&
      m.message.stateReport.trigger === StateReportTrigger.STATE_REPORT_TRIGGER_CONNECT
        ? m.message.stateReport
        : undefined,
    );
    expect(connect.accounts.map((a) => [a.account, a.locked])).toEqual([
      ['alice', true],
      ['bob', false],
    ]);

    const secret = 'Zq9-Temp-Secret-Alice!';
    const op = lrmOp({ action: Action.ACTION_RESET_PASSWORD, newSecret: secret, temporary: true });
    (await service.latest()).send({ message: { $case: 'operation', operation: op } });
    const result = await service.waitFor(resultFor(op.id), { timeoutMs: 10_000 });
    expect(result).toMatchObject({ outcome: OperationOutcome.OPERATION_OUTCOME_SUCCEEDED, replayed: false });
    expect(result.before?.locked).toBe(true);
    expect(result.after).toMatchObject({ locked: false, mustChangePassword: true });
    expect(sim.user('alice')).toMatchObject({ password: secret, locked: false, mustChangePassword: true });

    agent.sigterm();
    expect(await agent.waitForExit()).toEqual({ code: 0, signal: null });
    const messages = agent.logs().map((l) => l.msg);
    expect(messages).toEqual(
      expect.arrayContaining([
        'agent starting',
        'operation received',
        'operation succeeded',
        'stop requested; draining',
        'agent stopped',
      ]),
    );
    const everything = agent.stdout() + agent.stderr();
    expect(everything).toContain(op.id);
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(SERVICE_PASSWORD);
  });

  it('remembers an applied operation in a new process and replays it without applying again', async () => {
    service = await startTestAgentService({ pki: harness.pki });
    sim = await startSim();
    await failLogins(sim, 'bob', 5);
    const file = harness.writeConfig(lrmConfig(sim, { stateDir: `${harness.dir}/state-replay` }));
    const first = start(file);
    const op = lrmOp({ account: 'bob', action: Action.ACTION_UNLOCK });
    (await service.latest(10_000)).send({ message: { $case: 'operation', operation: op } });
    expect(await service.waitFor(resultFor(op.id), { timeoutMs: 10_000 })).toMatchObject({
      outcome: OperationOutcome.OPERATION_OUTCOME_SUCCEEDED,
    });
    first.sigterm();
    expect((await first.waitForExit()).code).toBe(0);
    const writesBefore = writes(sim).length;
    await failLogins(sim, 'bob', 5); // locked again: a re-apply would show as a new unlock request

    start(file);
    await service.waitFor((m) => m.message?.$case === 'hello', { nth: 2, timeoutMs: 10_000 });
    (await service.latest()).send({ message: { $case: 'operation', operation: op } });
    const replay = await service.waitFor(resultFor(op.id), { nth: 2, timeoutMs: 10_000 });
    expect(replay).toMatchObject({ outcome: OperationOutcome.OPERATION_OUTCOME_SUCCEEDED, replayed: true });
    expect(writes(sim).length).toBe(writesBefore);
    expect(sim.user('bob')?.locked).toBe(true);
  });

  it('on SIGTERM waits for the operation in flight, sends its result, then exits 0', async () => {
    service = await startTestAgentService({ pki: harness.pki });
    sim = await startSim();
    await failLogins(sim, 'alice', 5);
    const agent = start(harness.writeConfig(lrmConfig(sim, { stateDir: `${harness.dir}/state-drain` })));
    sim.hang('unlockUser'); // the backend's own timeout (1.5 s) ends the call
    const op = lrmOp({ action: Action.ACTION_UNLOCK });
    (await service.latest(10_000)).send({ message: { $case: 'operation', operation: op } });
    await agent.waitForLog((l) => l.msg === 'operation received' && l.operationId === op.id);
    agent.sigterm();
    await agent.waitForLog((l) => l.msg === 'agent state changed' && l.to === 'draining');
    const result = await service.waitFor(resultFor(op.id), { timeoutMs: 10_000 });
    expect(result).toMatchObject({
      outcome: OperationOutcome.OPERATION_OUTCOME_FAILED,
      errorCode: 'FP_LRM_UNREACHABLE',
    });
    expect(await agent.waitForExit()).toEqual({ code: 0, signal: null });
    const order = agent.logs().map((l) => l.msg);
    expect(order.indexOf('operation failed')).toBeGreaterThan(order.indexOf('stop requested; draining'));
    expect(order.indexOf('agent stopped')).toBeGreaterThan(order.indexOf('operation failed'));
  });

  it('after a crash mid-operation reports it interrupted on restart and never re-applies it', async () => {
    service = await startTestAgentService({ pki: harness.pki });
    sim = await startSim();
    await failLogins(sim, 'alice', 5);
    const cfg = harness.writeConfig(lrmConfig(sim, { stateDir: `${harness.dir}/state-crash` }));
    const agent = start(cfg);
    sim.hang('unlockUser');
    const op = lrmOp({ action: Action.ACTION_UNLOCK });
    (await service.latest(10_000)).send({ message: { $case: 'operation', operation: op } });
    await agent.waitForLog((l) => l.msg === 'operation received' && l.operationId === op.id);
    // Inside the backend call: the journal's `started` line is written just before the unlock request goes out, so
    // the simulator seeing that request is the sign (a fixed sleep lost the race on a loaded machine).
    await waitUntil(() => sim!.requests.some((x) => x.route === 'unlockUser'), 30_000, 'the unlock request at the LRM');
    agent.kill();
    expect((await agent.waitForExit()).signal).toBe('SIGKILL');
    const unlockRequests = sim.requests.filter((r) => r.route === 'unlockUser').length;

    const again = start(cfg);
    const r = await service.waitFor(resultFor(op.id), { timeoutMs: 10_000 });
    expect(r).toMatchObject({
      outcome: OperationOutcome.OPERATION_OUTCOME_FAILED,
      errorCode: 'FP_OPERATION_INTERRUPTED',
      replayed: false,
    });
    expect(r.after).toMatchObject({ account: 'alice', exists: true });
    await again.waitForLog((l) => l.msg === 'agent state changed' && l.to === 'connected');
    (await service.latest()).send({ message: { $case: 'operation', operation: op } });
    expect(await service.waitFor(resultFor(op.id), { nth: 2 })).toMatchObject({
      errorCode: 'FP_OPERATION_INTERRUPTED',
      replayed: true,
    });
    expect(sim.requests.filter((x) => x.route === 'unlockUser').length).toBe(unlockRequests);
  });
});

describe('fleetpass-agent run: a stop signal during start (real process)', () => {
  it('drains and exits 0 when SIGTERM comes while interrupted operations are being recovered; the journal stays consistent', async () => {
    service = await startTestAgentService({ pki: harness.pki });
    sim = await startSim();
    const stateDir = `${harness.dir}/state-stop-during-start`;
    const cut = lrmOp({ action: Action.ACTION_UNLOCK });
    const journal = openJournal({ dir: stateDir, clock: systemClock, log: silentLogger(), retentionDays: 30 });
    journal.recordStarted({ id: cut.id, backend: cut.backend, account: cut.account, action: cut.action });
    journal.close();
    // Recovery inspects the account; the LRM answers only after the backend's own timeout (1.5 s).
    for (const route of ['login', 'listUsers', 'getUser'] as const) sim.hang(route);
    const agent = start(harness.writeConfig(lrmConfig(sim, { stateDir })));
    await agent.waitForLog((l) => l.msg === 'journal opened');
    agent.sigterm();
    expect(await agent.waitForExit()).toEqual({ code: 0, signal: null });
    const messages = agent.logs().map((l) => l.msg);
    expect(messages).toEqual(
      expect.arrayContaining([
        'stop requested; draining',
        'stop requested while starting; not connecting',
        'agent stopped',
      ]),
    );
    expect(messages).not.toContain('agent starting');
    expect(agent.stderr()).toBe('');
    expect(service.streams).toHaveLength(0);
    const after = openJournal({ dir: stateDir, clock: systemClock, log: silentLogger(), retentionDays: 30 });
    expect(after.interrupted()).toEqual([]);
    expect(after.unsent().map((r) => [r.operationId, r.errorCode])).toEqual([[cut.id, 'FP_OPERATION_INTERRUPTED']]);
    after.close();
  });
});

describe('fleetpass-agent accounts / check-config (real process)', () => {
  it('accounts --json lists the policy accounts, locked first, straight from the backend', async () => {
    service = await startTestAgentService({ pki: harness.pki });
    sim = await startSim();
    await failLogins(sim, 'bob', 5);
    await failLogins(sim, 'alice', 2);
    const { code, stdout, stderr } = await harness.run([
      'accounts',
      '--json',
      '--config',
      harness.writeConfig(lrmConfig(sim)),
    ]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const rows = JSON.parse(stdout) as {
      account: string;
      backend: string;
      policy: string[];
      state: Record<string, unknown>;
    }[];
    expect(rows.map((r) => [r.backend, r.account, r.state.locked ?? false, r.state.failureCount])).toEqual([
      ['lrm', 'bob', true, 5],
      ['lrm', 'alice', false, 2],
    ]);
    expect(rows[0].policy).toEqual(['unlock', 'refresh_state']);
    expect(stdout).not.toContain(SERVICE_PASSWORD);
  });

  it('accounts prints a table for people, and exits 2 on a bad account name', async () => {
    service = await startTestAgentService({ pki: harness.pki });
    sim = await startSim();
    await failLogins(sim, 'alice', 5);
    const file = harness.writeConfig(lrmConfig(sim));
    const table = await harness.run(['accounts', '--config', file]);
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n').filter((l) => /alice|bob/.test(l));
    expect(lines[0]).toMatch(/alice.*LOCKED \(too_many_failures\).*5\/5.*never \(needs unlock\)/);
    expect(lines[1]).toMatch(/bob.*ok/);
    const bad = await harness.run(['accounts', '--backend', 'lrm', '--config', file, '../etc']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error FP_ACCOUNT_NAME_INVALID: /);
  });

  it('check-config prints the effective config without secrets, and the warnings', async () => {
    sim = await startSim();
    service = await startTestAgentService({ pki: harness.pki });
    const cfg = lrmConfig(sim) as { backends: { lrm: Record<string, unknown> } };
    cfg.backends.lrm.serviceAccount = { username: SERVICE_USER, password: SERVICE_PASSWORD };
    const file = harness.writeConfig(cfg);
    const { code, stdout, stderr } = await harness.run(['check-config', '--config', file]);
    expect(code).toBe(0);
    expect(stdout).toContain(`# node id (certificate CN): ${NODE}`);
    expect(stdout).toContain('password: "[redacted]"');
    expect(stdout).toContain('# configuration ok');
    expect(stdout + stderr).not.toContain(SERVICE_PASSWORD);
    expect(stderr).toContain('warning: backends.lrm.serviceAccount.password is written in the config file');
    const json = await harness.run(['check-config', '--json', '--config', file]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      valid: true,
      nodeId: NODE,
      problems: [],
      backends: [{ backend: 'lrm' }],
      config: { backends: { lrm: { serviceAccount: { password: '[redacted]' } } } },
    });
    expect(json.stdout).not.toContain(SERVICE_PASSWORD);
  });

  it('check-config names every bad key and the file, and exits 1', async () => {
    const file = harness.writeConfig({
      policy: { allowRoot: 'yes', accounts: [{ backend: 'linux', account: 'a;b', actions: ['unlock'] }] },
      heartbeatSeconds: -1,
    });
    const { code, stderr } = await harness.run(['check-config', '--config', file]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error FP_CONFIG_INVALID: invalid configuration:/);
    expect(stderr).toContain(`${file}: policy.allowRoot:`);
    expect(stderr).toContain(`${file}: heartbeatSeconds:`);
    expect(stderr).toContain(`${file}: policy.accounts.0.account:`);
  });

  it('check-config reports a missing key file with FP_TLS_MATERIAL and the key that names it', async () => {
    const file = harness.writeConfig({
      backends: { linux: { enabled: false } },
      controller: { keyFile: `${harness.dir}/nope.key` },
    });
    const { code, stderr } = await harness.run(['check-config', '--config', file]);
    expect(code).toBe(1);
    expect(stderr).toContain(
      `error FP_TLS_MATERIAL: cannot read the node key (controller.keyFile) ${harness.dir}/nope.key: ENOENT`,
    );
  });

  it('lrm probe runs the LRM probe on backends.lrm, and exits 2 when it is not configured', async () => {
    service = await startTestAgentService({ pki: harness.pki });
    sim = await startSim();
    const probe = await harness.run(['lrm', 'probe', '--json', '--config', harness.writeConfig(lrmConfig(sim))]);
    expect(probe.code).toBe(0);
    expect(JSON.parse(probe.stdout)).toMatchObject({ version: '4.1.0', ready: true });
    expect(probe.stdout + probe.stderr).not.toContain(SERVICE_PASSWORD);
    const none = await harness.run([
      'lrm',
      'probe',
      '--config',
      harness.writeConfig({ backends: { linux: { enabled: false } } }),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error FP_CONFIG_INVALID: backends.lrm is not set/);
  });

  it('run exits 1 with one sentence when the config is bad, and 2 on a usage error', async () => {
    const bad = await harness.run(['run', '--config', `${harness.dir}/missing.yaml`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^error FP_CONFIG_UNREADABLE: cannot read config file/);
    const usage = await harness.run(['run', '--bogus']);
    expect(usage.code).toBe(2);
  });
});
