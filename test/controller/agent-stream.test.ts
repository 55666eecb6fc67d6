/**
 * The agent server over real mutual TLS on 127.0.0.1, driven by scripted agents: identity from the
 * certificate, one stream per node, state reports, dispatch and results, offline delivery, expiry, and
 * the rejections that must be audited.
 */
import { status } from '@grpc/grpc-js';
import { fakeClock } from '../../shared/clock';
import { StateReportTrigger, type ConnectResponse, type Operation } from '../../shared/gen/fleetpass/v1/agent';
import { Action, OperationOutcome } from '../../shared/gen/fleetpass/v1/common';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { accountState, connectScriptedAgent, succeed, type ScriptedAgent } from './support/scripted-agent';
import { changeRequestView, listNodeViews } from '../../controller/store';
import { storeReads } from '../helpers/store-reads';
import { principal } from '../helpers/factories';

let tc: TestController;
const agents: ScriptedAgent[] = [];

function agent(a: ScriptedAgent): ScriptedAgent {
  agents.push(a);
  return a;
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

afterEach(async () => {
  for (const a of agents.splice(0)) a.close();
  await tc?.stop();
  removeRoot(tc.root);
});

const opOf = (m: ConnectResponse): Operation | undefined =>
  m.message?.$case === 'operation' ? m.message.operation : undefined;

describe('agent stream', () => {
  it('welcomes nodes by their certificate, stores their reports, dispatches an unlock and records the result', async () => {
    tc = await startTestController();
    const { store } = tc.ctx;
    const service = storeReads(tc.ctx);
    const nodes = ['nx-1', 'nx-2', 'nx-3'];
    for (const id of nodes) {
      const a = agent(connectScriptedAgent({ address: tc.address, creds: await tc.nodeCredentials(id) }));
      const welcome = await a.waitFor((m) => (m.message?.$case === 'welcome' ? m.message.welcome : undefined));
      expect(welcome).toMatchObject({ nodeId: id, heartbeatSeconds: 30 });
      a.send({
        message: {
          $case: 'stateReport',
          stateReport: {
            accounts: [accountState('ilmnuser', id === 'nx-2'), accountState('root', false)],
            trigger: StateReportTrigger.STATE_REPORT_TRIGGER_CONNECT,
            requestId: '',
            complete: true,
          },
        },
      });
    }
    await until(() => store.accounts.list().length === 6);
    expect(service.listNodes().map((n) => [n.id, n.online, n.hostname, n.lockedAccounts])).toEqual([
      ['nx-1', true, 'nx-1.lab', 0],
      ['nx-2', true, 'nx-2.lab', 1],
      ['nx-3', true, 'nx-3.lab', 0],
    ]);
    expect(service.listAccounts({ lockedOnly: true }).map((a) => [a.node.id, a.account.state.account])).toEqual([
      ['nx-2', 'ilmnuser'],
    ]);

    const locked = service.selectNodes({ all: true, lockedOnly: true, account: 'ilmnuser' }).map((n) => n.id);
    expect(locked).toEqual(['nx-2']);
    const updates: string[] = [];
    const { request, operations } = await tc.request({ nodeIds: locked });
    const unwatch = service.watchChangeRequest(request.id, (u) =>
      updates.push(`${u.operation?.state ?? 'snapshot'}${u.done ? ' done' : ''}`),
    );
    expect(operations).toHaveLength(1);
    await until(() => service.getChangeRequest(request.id).request.state === 'done');
    unwatch();
    const view = service.getChangeRequest(request.id);
    expect(view.operations[0]).toMatchObject({ nodeId: 'nx-2', state: 'succeeded', attempts: 1 });
    expect(view.operations[0].after?.locked).toBe(false);
    expect(store.accounts.get('nx-2', view.operations[0].backend, 'ilmnuser')?.state.locked).toBe(false);
    expect(service.operationTransitions(view.operations[0].id).map((t) => `${t.from}>${t.to}`)).toEqual([
      '>requested',
      'requested>approved',
      'approved>dispatched',
      'dispatched>succeeded',
    ]);
    expect(updates[updates.length - 1]).toBe('succeeded done');

    const actions = service.queryAudit({ limit: 1000 }).records.map((r) => r.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'controller.started',
        'node.connected',
        'request.created',
        'operation.requested',
        'operation.dispatched',
        'operation.succeeded',
        'request.done',
      ]),
    );
    expect(service.verifyAudit()).toMatchObject({ ok: true });

    agents[0].close();
    await until(() => service.getNode('nx-1')?.online === false);
    expect(service.queryAudit({ filter: { action: 'node.disconnected', nodeId: 'nx-1' } }).records).toHaveLength(1);
  });

  it('refuses and audits a hello that names another node than the certificate', async () => {
    tc = await startTestController();
    const a = agent(
      connectScriptedAgent({ address: tc.address, creds: await tc.nodeCredentials('nx-a'), hello: { nodeId: 'nx-b' } }),
    );
    const err = await a.ended();
    expect(err?.code).toBe(status.PERMISSION_DENIED);
    expect(err?.details).toContain('nx-a');
    expect(listNodeViews(tc.ctx.store)).toEqual([]);
    const rec = tc.ctx.audit.query({ filter: { action: 'node.identity_mismatch' } }).records;
    expect(rec).toHaveLength(1);
    expect(rec[0]).toMatchObject({ nodeId: 'nx-a', outcome: 'refused', actor: 'node:nx-a' });
    expect(JSON.parse(rec[0].detailsJson)).toMatchObject({ claimed: 'nx-b' });
  });

  it('keeps one stream per node: a reconnect replaces and closes the old stream', async () => {
    tc = await startTestController();
    const creds = await tc.nodeCredentials('nx-r');
    const first = agent(connectScriptedAgent({ address: tc.address, creds, answer: () => undefined }));
    await first.waitFor((m) => m.message?.$case === 'welcome' || undefined);
    const second = agent(connectScriptedAgent({ address: tc.address, creds, answer: () => undefined }));
    await second.waitFor((m) => m.message?.$case === 'welcome' || undefined);
    const err = await first.ended();
    expect(err?.code).toBe(status.ABORTED);
    expect(tc.ctx.sessions.size()).toBe(1);
    expect(tc.ctx.store.nodes.get('nx-r')?.online).toBe(true); // the old stream's end did not mark it offline
    const { operations } = await tc.request({ nodeIds: ['nx-r'] });
    const op = await second.waitFor(opOf);
    expect(op.id).toBe(operations[0].id);
    expect(first.operations()).toEqual([]);
  });

  it('rejects and audits results for unknown operations and for operations of another node', async () => {
    tc = await startTestController();
    const a = agent(
      connectScriptedAgent({ address: tc.address, creds: await tc.nodeCredentials('nx-1'), answer: () => undefined }),
    );
    const b = agent(
      connectScriptedAgent({ address: tc.address, creds: await tc.nodeCredentials('nx-2'), answer: () => undefined }),
    );
    await a.waitFor((m) => m.message?.$case === 'welcome' || undefined);
    await b.waitFor((m) => m.message?.$case === 'welcome' || undefined);
    const { operations } = await tc.request({ nodeIds: ['nx-1'] });
    const op = await a.waitFor(opOf);
    b.send({ message: { $case: 'result', result: succeed(op) } });
    b.send({ message: { $case: 'result', result: succeed({ ...op, id: 'no-such-operation' }) } });
    const service = storeReads(tc.ctx);
    await until(() => service.queryAudit({ filter: { action: 'operation.result_rejected' } }).records.length === 2);
    const [other, unknown] = service.queryAudit({ filter: { action: 'operation.result_rejected' } }).records;
    expect(other).toMatchObject({
      nodeId: 'nx-2',
      operationId: operations[0].id,
      reason: 'the operation was sent to another node',
    });
    expect(unknown).toMatchObject({
      nodeId: 'nx-2',
      operationId: 'no-such-operation',
      reason: 'the controller does not know this operation',
    });
    expect(service.getOperation(operations[0].id)?.state).toBe('dispatched');
    a.send({ message: { $case: 'result', result: succeed(op) } });
    await until(() => service.getOperation(operations[0].id)?.state === 'succeeded');
    expect(service.verifyAudit().ok).toBe(true);
  });

  it('delivers an operation for an offline node when it connects', async () => {
    tc = await startTestController();
    const creds = await tc.nodeCredentials('nx-off');
    tc.ctx.store.nodes.ensure('nx-off', new Date());
    const { operations } = await tc.request({ nodeIds: ['nx-off'] });
    expect(operations[0].state).toBe('approved');
    const a = agent(connectScriptedAgent({ address: tc.address, creds }));
    const op = await a.waitFor(opOf);
    expect(op).toMatchObject({
      id: operations[0].id,
      account: 'ilmnuser',
      action: Action.ACTION_UNLOCK,
      requestedBy: 'alice',
      reason: 'test',
    });
    await until(() => tc.ctx.store.operations.getOperation(op.id)?.state === 'succeeded');
  });

  it('expires an operation that is not delivered in time and never sends it afterwards', async () => {
    const clock = fakeClock(new Date());
    tc = await startTestController({ clock, config: { operationTtlSeconds: 60 } });
    const creds = await tc.nodeCredentials('nx-late');
    tc.ctx.store.nodes.ensure('nx-late', clock.now());
    const { operations, request } = await tc.request({
      nodeIds: ['nx-late'],
      action: Action.ACTION_RESET_PASSWORD,
      targets: [{ nodeId: 'nx-late', secret: 'Expiring-Secret-42' }],
    });
    expect(operations[0].hasSecret).toBe(true);
    await tc.controller.runJob('expire');
    expect(tc.ctx.store.operations.getOperation(operations[0].id)?.state).toBe('approved');
    clock.advance(61_000);
    expect(await tc.controller.runJob('expire')).toMatchObject({ expired: 1 });
    const expired = tc.ctx.store.operations.getOperation(operations[0].id)!;
    expect(expired).toMatchObject({ state: 'expired', hasSecret: false });
    expect(tc.ctx.store.db.prepare('SELECT count(*) FROM pending_secrets').pluck().get()).toBe(0);
    expect(changeRequestView(tc.ctx.store, request.id).request.state).toBe('done');
    const a = agent(connectScriptedAgent({ address: tc.address, creds }));
    await a.waitFor((m) => m.message?.$case === 'welcome' || undefined);
    await new Promise((r) => setTimeout(r, 200));
    expect(a.operations()).toEqual([]);
    expect(tc.ctx.audit.query({ filter: { action: 'operation.expired' } }).records[0]).toMatchObject({
      operationId: operations[0].id,
      reason: 'not delivered to the node in time',
    });
  });

  it('refuses a revoked node and cuts its open stream', async () => {
    tc = await startTestController();
    const creds = await tc.nodeCredentials('nx-rev');
    const a = agent(connectScriptedAgent({ address: tc.address, creds }));
    await a.waitFor((m) => m.message?.$case === 'welcome' || undefined);
    tc.ctx.service.revokeNode(principal({ name: 'admin' }), { nodeId: 'nx-rev', reason: 'stolen' });
    expect((await a.ended())?.code).toBe(status.PERMISSION_DENIED);
    const again = agent(connectScriptedAgent({ address: tc.address, creds }));
    const err = await again.ended();
    expect(err?.details).toContain('revoked');
    expect(tc.ctx.audit.query({ filter: { action: 'node.connect_refused' } }).records[0]).toMatchObject({
      nodeId: 'nx-rev',
      reason: 'the node is revoked',
    });
  });

  it('moves a failed outcome to failed with its error code and step', async () => {
    tc = await startTestController();
    const a = agent(
      connectScriptedAgent({
        address: tc.address,
        creds: await tc.nodeCredentials('nx-f'),
        answer: (op) => ({
          ...succeed(op),
          outcome: OperationOutcome.OPERATION_OUTCOME_FAILED,
          errorCode: 'FP_COMMAND_FAILED',
          failedStep: 'faillock-reset',
          after: accountState(op.account, true),
        }),
      }),
    );
    await a.waitFor((m) => m.message?.$case === 'welcome' || undefined);
    const { operations } = await tc.request({ nodeIds: ['nx-f'] });
    await until(() => tc.ctx.store.operations.getOperation(operations[0].id)?.state === 'failed');
    expect(tc.ctx.store.operations.getOperation(operations[0].id)).toMatchObject({
      errorCode: 'FP_COMMAND_FAILED',
      failedStep: 'faillock-reset',
    });
    expect(tc.ctx.audit.query({ filter: { action: 'operation.failed' } }).records[0]).toMatchObject({
      nodeId: 'nx-f',
      outcome: 'failed',
      reason: 'FP_COMMAND_FAILED',
    });
  });

  it('refuses a message larger than maxMessageBytes and keeps nothing of it', async () => {
    tc = await startTestController({ config: { maxMessageBytes: 8192 } });
    const a = agent(connectScriptedAgent({ address: tc.address, creds: await tc.nodeCredentials('nx-big') }));
    await a.waitFor((m) => m.message?.$case === 'welcome' || undefined);
    a.send({
      message: {
        $case: 'stateReport',
        stateReport: {
          accounts: [accountState('ilmnuser', true, { details: { junk: 'x'.repeat(20_000) } })],
          trigger: StateReportTrigger.STATE_REPORT_TRIGGER_CHANGE,
          requestId: '',
          complete: false,
        },
      },
    });
    expect((await a.ended())?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(tc.ctx.store.accounts.list()).toEqual([]);
    await until(() => tc.ctx.store.nodes.get('nx-big')?.online === false);
  });
});
