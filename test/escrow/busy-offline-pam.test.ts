/**
 * Scheduled rotation meets a real instrument (agent in a PAM sandbox, busy check = a marker file, 1 s
 * heartbeats): the account gets its slot in the class window; while the instrument is busy the rotation
 * waits and happens once the busy check clears; an agent that turned busy between heartbeats refuses the
 * require_idle reset (FP_NODE_BUSY), the old escrowed password stays valid and the rotation is retried
 * when idle; an offline node is rotated as soon as it returns. pamtester checks every password change.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeClock } from '../../shared/clock';
import { Backend } from '../../shared/gen/fleetpass/v1/common';
import { hostAccountFingerprint } from '../../shared/pam-sandbox';
import { nextCronTime } from '../../controller/jobs/schedule';
import { captureLogs, removeRoot, type LogCapture } from '../helpers/controller-harness';
import { USER_PASSWORD, createSandboxedNode, type SandboxedNode } from '../helpers/sandboxed-node';
import { waitUntil } from '../operator/support/operator-harness';
import { containsSecret, databaseBytes, startEscrowEnv, type EscrowEnv } from './support/escrow-env';
import { listAccountViews } from '../../controller/store';
import { storeReads } from '../helpers/store-reads';

const NODE = 'nextseq-esc2';
const SPREAD_SECONDS = 600;

let env: EscrowEnv;
let logs: LogCapture;
let node: SandboxedNode;
let hostBefore: Record<string, string>;
const clock = fakeClock(new Date());
const busyDir = mkdtempSync(join(tmpdir(), 'fp-escrow-busy-'));
const busyFile = join(busyDir, 'run-in-progress');
const passwords: string[] = [];

const engine = () => env.escrow.engine();
const entry = () =>
  engine()
    .status()
    .find((e) => e.nodeId === NODE && e.account === 'ilmnuser')!;
const nodeRecord = () => env.tc.ctx.store.nodes.get(NODE)!;
const olivia = () => env.principal('olivia');

function current(): string {
  const r = engine().reveal(olivia(), {
    nodeId: NODE,
    backend: Backend.BACKEND_LINUX,
    account: 'ilmnuser',
    reason: 'check the rotation',
  });
  if (r.state !== 'revealed') throw new Error('expected a revealed password');
  if (!passwords.includes(r.password)) passwords.push(r.password);
  return r.password;
}

async function settled(requestId: string): Promise<Array<[string, string]>> {
  const service = storeReads(env.tc.ctx);
  await waitUntil(() => service.getChangeRequest(requestId).request.state === 'done', 20_000, 'the rotation to finish');
  return service.getChangeRequest(requestId).operations.map((o) => [o.state, o.errorCode]);
}

async function busy(on: boolean): Promise<void> {
  if (on) writeFileSync(busyFile, 'sequencing\n');
  else rmSync(busyFile, { force: true });
  await waitUntil(() => nodeRecord().busy === on, 10_000, `the node to report busy=${on}`);
}

beforeAll(async () => {
  hostBefore = await hostAccountFingerprint();
  logs = captureLogs('debug');
  env = await startEscrowEnv({
    clock,
    log: logs.logger,
    config: {
      heartbeatSeconds: 1,
      escrow: {
        // The demand a reveal leaves is not wanted here: only the schedule and explicit asks rotate.
        classes: [
          {
            name: 'instrument',
            accounts: [{ account: 'ilmnuser' }],
            schedule: '0 * * * *',
            spreadSeconds: SPREAD_SECONDS,
            rotateAfterReveal: false,
          },
        ],
      },
    },
  });
  env.addOperator('olivia', 'operator');
  node = await createSandboxedNode(
    NODE,
    env.tc.address,
    await env.tc.nodeCredentials(NODE),
    {},
    { busyCheck: { file: busyFile } },
  );
  node.start();
  await waitUntil(
    () => listAccountViews(env.tc.ctx.store).some((a) => a.account.state.account === 'ilmnuser'),
    20_000,
    'the node to report its accounts',
  );
});

afterAll(async () => {
  await node?.destroy();
  await env?.stop();
  if (env) removeRoot(env.tc.root);
  rmSync(busyDir, { recursive: true, force: true });
  expect(await hostAccountFingerprint()).toEqual(hostBefore);
});

describe('scheduled rotation waits for idle instruments and returning nodes', () => {
  it('tracks the account from the inventory and gives it a fixed slot in the next window', async () => {
    const pass = await engine().runRotations();
    expect(pass.requests).toEqual([]);
    const e = entry();
    expect(e).toMatchObject({
      rotationClass: 'instrument',
      setAt: null,
      versions: 0,
      rotationReason: 'scheduled rotation (class instrument)',
    });
    const opens = nextCronTime('0 * * * *', clock.now())!.getTime();
    const offset = new Date(e.nextRotation!).getTime() - opens;
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(offset).toBeLessThan(SPREAD_SECONDS * 1000);
    expect(offset % 1000).toBe(0);
  });

  it('waits while the instrument is busy and rotates once the busy check clears', async () => {
    await busy(true);
    clock.set(new Date(new Date(entry().nextRotation!).getTime() + 1000));
    const waiting = await engine().runRotations();
    expect(waiting.requests).toEqual([]);
    expect(waiting.waiting).toEqual([
      { nodeId: NODE, backend: Backend.BACKEND_LINUX, account: 'ilmnuser', why: 'waiting: node busy' },
    ]);
    expect(entry().lastRotationOutcome).toBe('waiting: node busy');
    expect(await node.sandbox.authenticate('ilmnuser', USER_PASSWORD)).toBe(true);

    await busy(false);
    const pass = await engine().runRotations();
    expect(pass.requests).toHaveLength(1);
    expect(pass.requests[0].request).toMatchObject({
      requestedBy: 'escrow:rotation',
      requireIdle: true,
      reason: 'scheduled rotation (class instrument)',
    });
    expect(await settled(pass.requests[0].request.id)).toEqual([['succeeded', '']]);
    const first = current();
    expect(await node.sandbox.authenticate('ilmnuser', first)).toBe(true);
    expect(await node.sandbox.authenticate('ilmnuser', USER_PASSWORD)).toBe(false);
    expect(entry()).toMatchObject({ lastRotationOutcome: 'succeeded', versions: 1, setBy: 'escrow:rotation' });
    // The next slot is in the window after this rotation, not again in this one.
    expect(new Date(entry().nextRotation!).getTime()).toBeGreaterThan(
      nextCronTime('0 * * * *', clock.now())!.getTime() - 1,
    );
  });

  it('an agent that turned busy between heartbeats refuses; the old password stays valid and the rotation is retried when idle', async () => {
    const before = current();
    writeFileSync(busyFile, 'sequencing\n');
    // The last heartbeat said idle: the run started after it.
    env.tc.ctx.store.nodes.touch(NODE, clock.now(), false);
    const asked = await engine().rotateNow(olivia(), {
      selection: { nodeIds: [NODE] },
      backend: Backend.BACKEND_LINUX,
      account: 'ilmnuser',
      reason: 'CHG-20',
    });
    expect(asked.requests).toHaveLength(1);
    expect(await settled(asked.requests[0].request.id)).toEqual([['refused', 'FP_NODE_BUSY']]);
    expect(entry()).toMatchObject({ lastRotationOutcome: 'refused: FP_NODE_BUSY', inFlight: false, versions: 1 });
    expect(current()).toBe(before);
    expect(await node.sandbox.authenticate('ilmnuser', before)).toBe(true);
    const discarded = env.tc.ctx.audit.query({ filter: { action: 'escrow.discarded' } }).records;
    expect(discarded.map((r) => [r.outcome, r.reason])).toEqual([['refused', 'FP_NODE_BUSY']]);

    await waitUntil(() => nodeRecord().busy, 10_000, 'the heartbeat to say busy');
    expect((await engine().runRotations()).waiting.map((w) => w.why)).toEqual(['waiting: node busy']);
    await busy(false);
    const retry = await engine().runRotations();
    expect(retry.requests.map((r) => r.request.reason)).toEqual(['asked by olivia: CHG-20']);
    expect(await settled(retry.requests[0].request.id)).toEqual([['succeeded', '']]);
    const after = current();
    expect(after).not.toBe(before);
    expect(await node.sandbox.authenticate('ilmnuser', after)).toBe(true);
    expect(await node.sandbox.authenticate('ilmnuser', before)).toBe(false);
  });

  it('an offline node is rotated when it returns', async () => {
    const before = current();
    node.agent!.sigterm();
    await node.agent!.waitForExit();
    await waitUntil(() => !nodeRecord().online, 10_000, 'the node to go offline');
    const asked = await engine().rotateNow(olivia(), {
      selection: { nodeIds: [NODE] },
      backend: Backend.BACKEND_LINUX,
      account: 'ilmnuser',
      reason: 'CHG-21',
    });
    expect(asked.requests).toEqual([]);
    expect(asked.waiting.map((w) => w.why)).toEqual(['waiting: node offline']);
    expect(entry().lastRotationOutcome).toBe('waiting: node offline');

    node.start();
    await waitUntil(
      () => entry().lastRotationOutcome === 'succeeded' && !entry().inFlight,
      20_000,
      'the rotation on return',
    );
    const after = current();
    expect(after).not.toBe(before);
    expect(await node.sandbox.authenticate('ilmnuser', after)).toBe(true);
    expect(await node.sandbox.authenticate('ilmnuser', before)).toBe(false);
    const rotations = env.tc.ctx.store.operations.listRequests().filter((r) => r.requestedBy === 'escrow:rotation');
    // The fake clock stands still, so compare the set: refused and retried CHG-20, then CHG-21 on return.
    expect(rotations.map((r) => r.reason).sort()).toEqual([
      'asked by olivia: CHG-20',
      'asked by olivia: CHG-20',
      'asked by olivia: CHG-21',
      'scheduled rotation (class instrument)',
    ]);
  });

  it('no escrowed password is in the database files, the controller log or the agent output', () => {
    expect(passwords).toHaveLength(3);
    const files = databaseBytes(env);
    for (const pw of passwords) {
      expect(containsSecret(files, pw)).toBe(false);
      expect(logs.text()).not.toContain(pw);
      expect(node.agent!.stdout()).not.toContain(pw);
    }
  });
});
