/**
 * Escrow across restarts and failures, with real controllers on one data file and scripted nodes:
 * a password whose capture was lost (the process died between the request's commit and the capture) is
 * staged again from the vault at the next start; an operation that finished while escrow was not running
 * is settled at the next start; a failed rotation keeps the old password, is reported and retried after
 * the back-off (not before), and a success clears the failures.
 */
import { Action, Backend, OperationOutcome } from '../../shared/gen/fleetpass/v1/common';
import type { Operation } from '../../shared/gen/fleetpass/v1/agent';
import { fakeClock } from '../../shared/clock';
import type { Principal } from '../../controller/access/authenticate';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { connectScriptedAgent, succeed, type ScriptedAgent } from '../controller/support/scripted-agent';
import { waitUntil } from '../operator/support/operator-harness';
import { changeRequestView } from '../../controller/store';

const OLGA: Principal = { name: 'olga', role: 'operator', via: 'local' };
const CONFIG = {
  escrow: {
    retry: { baseSeconds: 600, maxSeconds: 3600 },
    classes: [{ name: 'all', accounts: [{ account: '*' }], rotateAfterReveal: false }],
  },
};
const clock = fakeClock(new Date());
let root: string | undefined;
let tc: TestController | undefined;
const agents: ScriptedAgent[] = [];

async function start(withEscrow: boolean): Promise<TestController> {
  tc = await startTestController({ root, clock, config: CONFIG, escrow: withEscrow });
  root = tc.root;
  return tc;
}

async function stop(): Promise<void> {
  for (const a of agents.splice(0)) a.close();
  await tc?.stop();
  tc = undefined;
}

async function node(
  id: string,
  answer?: (op: Operation) => ReturnType<typeof succeed> | undefined,
): Promise<ScriptedAgent> {
  const a = connectScriptedAgent({ address: tc!.address, creds: await tc!.nodeCredentials(id), answer });
  agents.push(a);
  await waitUntil(() => tc!.ctx.store.nodes.get(id)?.online, 10_000, `${id} online`);
  return a;
}

const reveal = (nodeId: string) =>
  tc!.ctx.escrow().reveal(OLGA, { nodeId, backend: Backend.BACKEND_LINUX, account: 'ilmnuser', reason: 'check' });
const entry = (nodeId: string) =>
  tc!.ctx
    .escrow()
    .status()
    .find((e) => e.nodeId === nodeId)!;
const done = (id: string) =>
  waitUntil(() => changeRequestView(tc!.ctx.store, id).request.state === 'done', 10_000, 'the request');

function reset(nodeId: string, password: string) {
  return tc!.request({
    nodeIds: [nodeId],
    action: Action.ACTION_RESET_PASSWORD,
    targets: [{ nodeId, secret: password }],
  });
}

afterAll(async () => {
  await stop();
  if (root) removeRoot(root);
});

describe('escrow catches up after a restart', () => {
  it('stages again from the vault a password whose capture was lost', async () => {
    await start(true);
    await node('cu-1', () => undefined);
    agents.pop()!.close();
    await waitUntil(() => !tc!.ctx.store.nodes.get('cu-1')!.online, 10_000, 'cu-1 offline');
    const r = await reset('cu-1', 'Lost-capture-pw-1');
    // As if the process had died right after the request committed, before escrow copied the password.
    tc!.ctx.store.db.prepare("DELETE FROM escrow_secrets WHERE state = 'staged'").run();
    await stop();

    await start(true);
    expect(entry('cu-1')).toMatchObject({ inFlight: true });
    await node('cu-1', succeed);
    await done(r.request.id);
    expect(reveal('cu-1')).toMatchObject({ state: 'revealed', password: 'Lost-capture-pw-1' });
  });

  it('settles an operation that finished while escrow was not running', async () => {
    const r = await reset('cu-1', 'Missed-settle-pw-2');
    expect(entry('cu-1')).toMatchObject({ inFlight: true });
    await stop();
    await start(false);
    await node('cu-1', succeed);
    await done(r.request.id);
    await stop();

    await start(true);
    expect(entry('cu-1')).toMatchObject({ inFlight: false, versions: 2 });
    expect(reveal('cu-1')).toMatchObject({ password: 'Missed-settle-pw-2' });
    expect(
      tc!.ctx.audit.query({ filter: { action: 'escrow.stored', operationId: r.operations[0].id } }).records,
    ).toHaveLength(1);
  });
});

describe('a failed rotation', () => {
  it('keeps the old password, is reported, waits for the back-off, and is retried', async () => {
    let fail = true;
    await node('cu-2', (op) =>
      fail
        ? {
            ...succeed(op),
            outcome: OperationOutcome.OPERATION_OUTCOME_FAILED,
            errorCode: 'FP_COMMAND_FAILED',
            failedStep: 'set-password',
          }
        : succeed(op),
    );
    const first = await reset('cu-2', 'Before-rotation-pw-3');
    fail = false;
    await done(first.request.id);
    fail = true;

    const asked = await tc!.ctx.escrow().rotateNow(OLGA, {
      selection: { nodeIds: ['cu-2'] },
      backend: Backend.BACKEND_LINUX,
      account: 'ilmnuser',
      reason: 'CHG-3',
    });
    await done(asked.requests[0].request.id);
    const failed = entry('cu-2');
    expect(failed).toMatchObject({ lastRotationOutcome: 'failed: FP_COMMAND_FAILED', inFlight: false, versions: 1 });
    expect(new Date(failed.nextRotation!).getTime()).toBe(clock.now().getTime() + 600_000);
    expect(reveal('cu-2')).toMatchObject({ password: 'Before-rotation-pw-3' });

    expect((await tc!.ctx.escrow().runRotations()).requests).toEqual([]);
    clock.advance(600_000);
    fail = false;
    const retry = await tc!.ctx.escrow().runRotations();
    expect(retry.requests.map((r) => r.request.reason)).toEqual(['asked by olga: CHG-3']);
    await done(retry.requests[0].request.id);
    expect(entry('cu-2')).toMatchObject({ lastRotationOutcome: 'succeeded', versions: 2, nextRotation: null });
    const pw = reveal('cu-2');
    expect(pw.state === 'revealed' && pw.password).not.toBe('Before-rotation-pw-3');
    const row = tc!.ctx.store.db
      .prepare("SELECT failures, next_attempt FROM escrow_accounts WHERE node_id = 'cu-2'")
      .get();
    expect(row).toEqual({ failures: 0, next_attempt: null });
  });
});
