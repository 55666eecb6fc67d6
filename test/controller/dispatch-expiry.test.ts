/**
 * An approved operation is never sent past its expiry: a request approved after its operations expired
 * (before the expiry job ran) has them expired at dispatch (audited, password erased), and the node is
 * sent nothing.
 */
import { fakeClock } from '../../shared/clock';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { connectScriptedAgent, type ScriptedAgent } from './support/scripted-agent';
import { storeReads } from '../helpers/store-reads';

const clock = fakeClock('2026-03-02T08:00:00Z');
let tc: TestController;
let agent: ScriptedAgent;

beforeAll(async () => {
  tc = await startTestController({ clock });
  agent = connectScriptedAgent({ address: tc.address, creds: await tc.nodeCredentials('ex-1') });
  await agent.waitFor((m) => (m.message?.$case === 'welcome' ? true : undefined));
});

afterAll(async () => {
  agent?.close();
  await tc?.stop();
  removeRoot(tc.root);
});

describe('dispatch after expiry', () => {
  it('expires an approved operation found past its expiry instead of sending it', async () => {
    const { store } = tc.ctx;
    const service = storeReads(tc.ctx);
    const { request, operations } = await service.createChangeRequest({
      requestedBy: 'olga',
      reason: 'CHG-8',
      backend: Backend.BACKEND_LINUX,
      account: 'root',
      action: Action.ACTION_RESET_PASSWORD,
      needsApproval: true,
      privileged: true,
      ttlSeconds: 60,
      targets: [{ nodeId: 'ex-1', secret: 'Late-Pass-2026!' }],
    });
    const id = operations[0].id;
    clock.advance(61_000); // past expiry; the expiry job has not run
    await service.approveChangeRequest(request.id, { actor: 'abe', note: 'late' });

    expect(store.operations.getOperation(id)).toMatchObject({ state: 'expired', hasSecret: false });
    expect(tc.ctx.dispatcher.deps.vault.open(id)).toBeUndefined();
    const rec = service.queryAudit({ filter: { operationId: id, action: 'operation.expired' } }).records;
    expect(rec.map((r) => [r.actor, r.reason])).toEqual([['controller', 'expired before it could be sent']]);
    expect(service.queryAudit({ filter: { operationId: id, action: 'operation.dispatched' } }).records).toEqual([]);
    expect(service.getChangeRequest(request.id).request.state).toBe('done');
    await new Promise((r) => setTimeout(r, 200));
    expect(agent.operations()).toEqual([]);
  });

  it('still sends an approved operation before its expiry', async () => {
    const { operations } = await tc.request({ nodeIds: ['ex-1'], action: Action.ACTION_UNLOCK, ttlSeconds: 60 });
    const op = await agent.waitFor((m) =>
      m.message?.$case === 'operation' && m.message.operation.id === operations[0].id ? m.message.operation : undefined,
    );
    expect(op.account).toBe('ilmnuser');
  });
});
