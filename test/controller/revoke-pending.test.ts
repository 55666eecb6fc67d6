/**
 * Revoking a node ends its open work in the same transaction: operations waiting for it (requested,
 * approved) are cancelled and sent ones (dispatched, no result) expire; every sealed password is erased
 * and each end audited. The node id enrolled again with a new token never receives any of it.
 */
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { enrollHere, makeToken } from '../enroll/support/enroll-fixtures';
import { connectScriptedAgent, type ScriptedAgent } from './support/scripted-agent';
import { principal } from '../helpers/factories';
import { storeReads } from '../helpers/store-reads';
import { waitUntil } from '../helpers/wait-until';

let tc: TestController;
const agents: ScriptedAgent[] = [];

beforeAll(async () => {
  tc = await startTestController();
});

afterAll(async () => {
  for (const a of agents) a.close();
  await tc?.stop();
  removeRoot(tc.root);
});

describe('revoking a node with work pending', () => {
  it('cancels what waits, expires what was sent, erases the passwords, and a re-enrolled node gets none of it', async () => {
    const { store } = tc.ctx;
    const service = storeReads(tc.ctx);
    const vault = tc.ctx.dispatcher.deps.vault;
    const first = await enrollHere(tc, makeToken(tc).secret, 'lab-r1');
    expect(first.nodeId).toBe('lab-r1');

    // Sent and never answered: the node stays silent.
    const silent = connectScriptedAgent({ address: tc.address, creds: first, answer: () => undefined });
    agents.push(silent);
    const sent = await tc.request({ nodeIds: ['lab-r1'], action: Action.ACTION_UNLOCK });
    await silent.waitFor((m) => (m.message?.$case === 'operation' ? true : undefined));
    expect(store.operations.getOperation(sent.operations[0].id)!.state).toBe('dispatched');
    silent.close();
    await waitUntil(() => store.nodes.get('lab-r1')?.online === false, 5000, 'the node offline');

    // Waiting for the node: approved (no approval needed) and requested (privileged), each with a sealed password.
    const reset = {
      backend: Backend.BACKEND_LINUX,
      action: Action.ACTION_RESET_PASSWORD,
      requestedBy: 'olga',
      reason: 'CHG-5',
    };
    const approved = await service.createChangeRequest({
      ...reset,
      account: 'ilmnuser',
      needsApproval: false,
      targets: [{ nodeId: 'lab-r1', secret: 'Waiting-Pass-1!' }],
    });
    const pending = await service.createChangeRequest({
      ...reset,
      account: 'root',
      needsApproval: true,
      privileged: true,
      targets: [{ nodeId: 'lab-r1', secret: 'Waiting-Pass-2!' }],
    });
    const ids = { sent: sent.operations[0].id, approved: approved.operations[0].id, pending: pending.operations[0].id };
    expect(store.operations.getOperation(ids.approved)).toMatchObject({ state: 'approved', hasSecret: true });
    expect(store.operations.getOperation(ids.pending)).toMatchObject({ state: 'requested', hasSecret: true });
    expect(vault.open(ids.approved)).toBe('Waiting-Pass-1!');

    tc.ctx.service.revokeNode(principal({ name: 'root-admin' }), { nodeId: 'lab-r1', reason: 'stolen laptop' });

    expect(store.operations.getOperation(ids.sent)).toMatchObject({ state: 'expired', hasSecret: false });
    expect(store.operations.getOperation(ids.approved)).toMatchObject({ state: 'cancelled', hasSecret: false });
    expect(store.operations.getOperation(ids.pending)).toMatchObject({ state: 'cancelled', hasSecret: false });
    for (const id of Object.values(ids)) expect(vault.open(id)).toBeUndefined();
    const ends = service
      .queryAudit({ filter: { nodeId: 'lab-r1' }, limit: 100 })
      .records.filter((r) => r.action === 'operation.cancelled' || r.action === 'operation.expired');
    expect(ends.map((r) => [r.operationId, r.action, r.actor]).sort()).toEqual(
      [
        [ids.approved, 'operation.cancelled', 'root-admin'],
        [ids.pending, 'operation.cancelled', 'root-admin'],
        [ids.sent, 'operation.expired', 'root-admin'],
      ].sort(),
    );
    expect(JSON.parse(ends[0].detailsJson)).toMatchObject({ revocationReason: 'stolen laptop' });
    expect(JSON.parse(service.queryAudit({ filter: { action: 'node.revoked' } }).records[0].detailsJson)).toEqual({
      operationsClosed: 3,
    });
    // The privileged request has nothing left to approve.
    await expect(service.approveChangeRequest(pending.request.id, { actor: 'abe' })).rejects.toMatchObject({
      code: 'FP_REQUEST_NOT_PENDING',
    });
    expect(service.getChangeRequest(pending.request.id).request.state).toBe('done');

    // The same node id, enrolled again with a token that names it, connects and is sent nothing.
    const again = await enrollHere(tc, makeToken(tc, { nodeId: 'lab-r1' }).secret, 'lab-r1');
    expect(store.nodes.get('lab-r1')?.revoked).toBe(false);
    const back = connectScriptedAgent({ address: tc.address, creds: again });
    agents.push(back);
    await back.waitFor((m) => (m.message?.$case === 'welcome' ? true : undefined));
    await tc.ctx.dispatcher.deliverPending('lab-r1');
    await tc.ctx.dispatcher.retryApproved();
    await new Promise((r) => setTimeout(r, 200));
    expect(back.operations()).toEqual([]);
    expect(store.operations.deliverableFor('lab-r1', new Date())).toEqual([]);
  });
});
