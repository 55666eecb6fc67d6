/**
 * The REAL agent bundle with the REAL Linux backend, running inside a PAM sandbox (shared/pam-sandbox:
 * private mount namespace, overlay /etc, real pam_faillock + pamtester), ordered by a real grpc-js
 * AgentService over mutual TLS on 127.0.0.1. The host's accounts and PAM files are checked unchanged.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPamSandbox, hostAccountFingerprint, type PamSandbox } from '../../shared/pam-sandbox';
import {
  Action,
  Backend,
  FailureCounter,
  OperationOutcome,
  type OperationResult,
} from '../../shared/gen/fleetpass/v1/common';
import { StateReportTrigger, type ConnectRequest } from '../../shared/gen/fleetpass/v1/agent';
import { JOURNAL_FILE } from '../../agent/journal';
import { createAgentHarness, type AgentHarness, type SpawnedAgent } from '../helpers/agent-harness';
import { startTestAgentService, type TestAgentService } from './helpers/test-agent-service';
import { testOperation } from './helpers/agent-fixtures';

const NODE = 'nextseq-linux-1';
const OLD = 'Old-Ilmn-pw-1';
const NEW = 'New-Ilmn-Secret-pw-9';

let harness: AgentHarness;
let sb: PamSandbox;
let service: TestAgentService;
let agent: SpawnedAgent | undefined;
let hostBefore: Record<string, string>;

beforeAll(async () => {
  hostBefore = await hostAccountFingerprint();
  harness = await createAgentHarness({ nodeId: NODE });
  sb = await createPamSandbox({
    users: [
      { name: 'ilmnuser', password: OLD },
      { name: 'ilmnadmin', password: 'Admin-pw-2' },
    ],
    deny: 3,
    unlockTime: 600,
  });
  service = await startTestAgentService({ pki: harness.pki });
});

afterAll(async () => {
  agent?.kill();
  await agent?.waitForExit().catch(() => undefined);
  await service?.stop();
  await sb?.destroy();
  await harness?.cleanup();
  expect(await hostAccountFingerprint()).toEqual(hostBefore);
});

const spawner = (argv: readonly string[], o: Parameters<PamSandbox['spawn']>[1]) => sb.spawn(argv, o);
const resultFor =
  (id: string) =>
  (m: ConnectRequest): OperationResult | undefined =>
    m.message?.$case === 'result' && m.message.result.operationId === id ? m.message.result : undefined;

function config(): string {
  return harness.writeConfig(
    {
      platform: 'nextseq-2000',
      stateDir: join(harness.dir, 'state-linux'),
      controller: { address: service.address },
      backends: { linux: { pamServices: [sb.service] } },
      policy: {
        accounts: [
          { backend: 'linux', account: 'ilmnuser', actions: ['unlock', 'reset_password', 'refresh_state'] },
          { backend: 'linux', account: 'ilmnadmin', actions: ['refresh_state'] },
        ],
      },
    },
    'agent-linux.yaml',
  );
}

describe('fleetpass-agent with the Linux backend on real PAM (sandbox)', () => {
  it('shows a real pam_faillock lock to the technician with `accounts --json`', async () => {
    await sb.failLogins('ilmnuser', 3, { rhost: '10.1.2.3' });
    expect(await sb.authenticate('ilmnuser', OLD)).toBe(false);
    const { code, stdout, stderr } = await harness.run(['accounts', '--json', '--config', config()], { spawner });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const rows = JSON.parse(stdout) as { account: string; lockSecondsLeft?: number; state: Record<string, unknown> }[];
    expect(rows.map((r) => r.account)).toEqual(['ilmnuser', 'ilmnadmin']);
    expect(rows[0].state).toMatchObject({
      locked: true,
      failureCount: 3,
      denyThreshold: 3,
      counter: 'FAILURE_COUNTER_FAILLOCK',
      lastFailureSource: '10.1.2.3',
    });
    expect(rows[0].lockSecondsLeft).toBeGreaterThan(590);
    expect(rows[0].lockSecondsLeft).toBeLessThanOrEqual(600);
    expect(rows[1].state.locked ?? false).toBe(false);
  });

  it('reports the lock on connect, resets the password on order, and PAM then takes only the new one', async () => {
    agent = harness.spawnRun(config(), { spawner });
    const hello = await service.waitFor((m) => (m.message?.$case === 'hello' ? m.message.hello : undefined), {
      timeoutMs: 15_000,
    });
    expect(hello).toMatchObject({ nodeId: NODE, backends: [Backend.BACKEND_LINUX] });
    const report = await service.waitFor((m) =>
      m.message?.$case === 'stateReport' &&
      m.message.stateReport.trigger === StateReportTrigger.STATE_REPORT_TRIGGER_CONNECT
        ? m.message.stateReport
        : undefined,
    );
    expect(report.accounts[0]).toMatchObject({
      account: 'ilmnuser',
      locked: true,
      failureCount: 3,
      counter: FailureCounter.FAILURE_COUNTER_FAILLOCK,
    });

    const op = testOperation({ action: Action.ACTION_RESET_PASSWORD, newSecret: NEW });
    (await service.latest()).send({ message: { $case: 'operation', operation: op } });
    const result = await service.waitFor(resultFor(op.id), { timeoutMs: 15_000 });
    expect(result).toMatchObject({ outcome: OperationOutcome.OPERATION_OUTCOME_SUCCEEDED, errorCode: '' });
    expect(result.before).toMatchObject({ locked: true, failureCount: 3 });
    expect(result.after).toMatchObject({ locked: false, failureCount: 0 });
    expect(await sb.authenticate('ilmnuser', NEW)).toBe(true);
    expect(await sb.authenticate('ilmnuser', OLD)).toBe(false);
  });

  it('refuses root (not in policy, allowRoot false) and leaves its shadow line alone', async () => {
    const rootBefore = await sb.shadowLine('root');
    const op = testOperation({ account: 'root', action: Action.ACTION_RESET_PASSWORD, newSecret: 'Root-pw-x1' });
    (await service.latest()).send({ message: { $case: 'operation', operation: op } });
    expect(await service.waitFor(resultFor(op.id))).toMatchObject({
      outcome: OperationOutcome.OPERATION_OUTCOME_REFUSED,
      errorCode: 'FP_POLICY_DENIED',
    });
    expect(await sb.shadowLine('root')).toBe(rootBefore);
  });

  it('drains on SIGTERM, and the new password is in no log line and not in the journal', async () => {
    agent!.sigterm();
    expect(await agent!.waitForExit()).toEqual({ code: 0, signal: null });
    const output = agent!.stdout() + agent!.stderr();
    expect(output).toContain('"msg":"agent stopped"');
    expect(output).not.toContain(NEW);
    expect(output).not.toContain(OLD);
    expect(readFileSync(join(harness.dir, 'state-linux', JOURNAL_FILE), 'utf8')).not.toContain(NEW);
    agent = undefined;
  });
});
