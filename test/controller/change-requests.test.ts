/**
 * The change-request API the admin layer calls: bad input is refused with its code and changes nothing;
 * approval, rejection and cancellation move every operation through legal transitions, erase sealed
 * passwords, are audited, and are streamed to watchers until nothing is left open.
 */
import { credentials, status } from '@grpc/grpc-js';
import { AgentServiceClient } from '../../shared/gen/fleetpass/v1/agent';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { validateRequest } from '../../controller/service/request-plan';
import { LEGAL_TRANSITIONS, canTransition } from '../../controller/dispatch';
import { OPERATION_STATES } from '../../controller/store';
import type { WatchUpdate } from '../../controller/service';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { connectScriptedAgent, succeed, type ScriptedAgent } from './support/scripted-agent';
import { changeRequestView } from '../../controller/store';
import { principal } from '../helpers/factories';
import { waitUntil } from '../helpers/wait-until';

let tc: TestController;
const agents: ScriptedAgent[] = [];
beforeEach(async () => {
  tc = await startTestController();
  for (const id of ['cr-1', 'cr-2', 'cr-3']) tc.ctx.store.nodes.ensure(id, new Date());
});
afterEach(async () => {
  for (const a of agents.splice(0)) a.close();
  await tc.stop();
  removeRoot(tc.root);
});

const counts = () => ({
  requests: tc.ctx.store.db.prepare('SELECT count(*) FROM change_requests').pluck().get(),
  audit: tc.ctx.audit.query({ limit: 1000 }).records.length,
  secrets: tc.ctx.store.db.prepare('SELECT count(*) FROM pending_secrets').pluck().get(),
});

describe('the state machine', () => {
  it('never leaves a final state and cannot cancel what was sent', () => {
    for (const s of ['succeeded', 'failed', 'refused', 'expired', 'cancelled'] as const)
      expect(LEGAL_TRANSITIONS[s]).toEqual([]);
    expect(canTransition('dispatched', 'cancelled')).toBe(false);
    expect(canTransition('requested', 'dispatched')).toBe(false);
    expect(Object.keys(LEGAL_TRANSITIONS).sort()).toEqual([...OPERATION_STATES].sort());
  });
});

describe('change requests', () => {
  it.each([
    ['no reason', { reason: ' ' }, 'FP_REASON_REQUIRED'],
    ['a bad account name', { account: '../etc' }, 'FP_ACCOUNT_NAME_INVALID'],
    ['no nodes', { nodeIds: [] }, 'FP_NO_NODES_MATCHED'],
    ['an unknown node', { nodeIds: ['cr-1', 'nope'] }, 'FP_NODE_UNKNOWN'],
    ['a node twice', { nodeIds: ['cr-1', 'cr-1'] }, 'FP_INVALID_ARGUMENT'],
    ['a reset without a password', { nodeIds: ['cr-1'], action: Action.ACTION_RESET_PASSWORD }, 'FP_SECRET_MISSING'],
    ['an unlock with a password', { targets: [{ nodeId: 'cr-1', secret: 'Pw-123456789' }] }, 'FP_INVALID_ARGUMENT'],
    ['no backend', { nodeIds: ['cr-1'], backend: Backend.BACKEND_UNSPECIFIED }, 'FP_INVALID_ARGUMENT'],
    // The admin layer's rules hold here too (one function): a caller that skips it is refused the same way.
    ['a reason with a terminal escape', { reason: 'INC-1 \u001b[2J' }, 'FP_INVALID_ARGUMENT'],
    ['a wait longer than 7 days', { ttlSeconds: 8 * 86_400 }, 'FP_INVALID_ARGUMENT'],
    ['a temporary password on Linux', { temporary: true }, 'FP_INVALID_ARGUMENT'],
  ])('refuses %s and changes nothing', async (_what, overrides, code) => {
    const before = counts();
    await expect(tc.request({ nodeIds: ['cr-1'], ...overrides })).rejects.toMatchObject({ code });
    expect(counts()).toEqual(before);
  });

  it('refuses with the same words as the admin layer', async () => {
    const ask = {
      backend: Backend.BACKEND_LINUX,
      account: 'ilmnuser',
      action: Action.ACTION_UNLOCK,
      selection: { nodeIds: ['cr-1'] },
    };
    for (const bad of [
      { reason: 'x'.repeat(501) },
      { reason: 'ok', ttlSeconds: -1 },
      { reason: 'ok', account: 'a b' },
    ]) {
      const early = (() => {
        try {
          validateRequest({ ...ask, ...bad });
        } catch (e) {
          return e as Error;
        }
      })();
      expect(early).toBeDefined();
      await expect(tc.request({ nodeIds: ['cr-1'], ...bad })).rejects.toMatchObject({
        code: (early as { code?: string }).code,
        message: early!.message,
      });
    }
  });

  it('refuses a revoked node', async () => {
    tc.ctx.service.revokeNode(principal({ name: 'admin' }), { nodeId: 'cr-2', reason: 'lost' });
    await expect(tc.request({ nodeIds: ['cr-2'] })).rejects.toMatchObject({ code: 'FP_NODE_REVOKED' });
  });

  it('rejecting cancels every operation, erases the passwords and ends the watch', async () => {
    const { request } = await tc.request({
      nodeIds: ['cr-1', 'cr-2'],
      action: Action.ACTION_RESET_PASSWORD,
      needsApproval: true,
      targets: [
        { nodeId: 'cr-1', secret: 'Pw-one-123456' },
        { nodeId: 'cr-2', secret: 'Pw-two-123456' },
      ],
    });
    expect(counts().secrets).toBe(2);
    const updates: WatchUpdate[] = [];
    tc.ctx.service.watchChangeRequest(principal(), request.id, (u) => updates.push(u));
    expect(() => tc.ctx.dispatcher.rejectChangeRequest(request.id, { actor: 'alice' })).toThrow(
      expect.objectContaining({ code: 'FP_SELF_APPROVAL' }),
    );
    const r = tc.ctx.dispatcher.rejectChangeRequest(request.id, { actor: 'carol', note: 'no ticket' });
    expect(r.request).toMatchObject({ state: 'rejected', rejectedBy: 'carol', decisionNote: 'no ticket' });
    expect(r.operations.map((o) => o.state)).toEqual(['cancelled', 'cancelled']);
    expect(counts().secrets).toBe(0);
    expect(updates[0].done).toBe(false);
    expect(updates[updates.length - 1]).toMatchObject({ done: true, request: { state: 'rejected' } });
    await expect(tc.ctx.dispatcher.approveChangeRequest(request.id, { actor: 'bob' })).rejects.toMatchObject({
      code: 'FP_REQUEST_NOT_PENDING',
    });
    expect(tc.ctx.audit.query({ filter: { action: 'request.rejected' } }).records[0]).toMatchObject({
      actor: 'carol',
      requestId: request.id,
      reason: 'no ticket',
    });
  });

  it('cancelling stops what was not sent and lets what was sent finish', async () => {
    const online = connectScriptedAgent({
      address: tc.address,
      creds: await tc.nodeCredentials('cr-1'),
      answer: () => undefined,
    });
    agents.push(online);
    await online.waitFor((m) => m.message?.$case === 'welcome' || undefined);
    const { request, operations } = await tc.request({ nodeIds: ['cr-1', 'cr-3'] });
    const byNode = Object.fromEntries(operations.map((o) => [o.nodeId, o]));
    expect(byNode['cr-1'].state).toBe('dispatched');
    expect(byNode['cr-3'].state).toBe('approved');
    const updates: WatchUpdate[] = [];
    tc.ctx.service.watchChangeRequest(principal(), request.id, (u) => updates.push(u));
    const r = tc.ctx.dispatcher.cancelChangeRequest(request.id, { actor: 'alice', note: 'wrong site' });
    expect(r.request.state).toBe('cancelled');
    expect(Object.fromEntries(r.operations.map((o) => [o.nodeId, o.state]))).toEqual({
      'cr-1': 'dispatched',
      'cr-3': 'cancelled',
    });
    expect(updates.some((u) => u.done)).toBe(false);
    const op = await online.waitFor((m) => (m.message?.$case === 'operation' ? m.message.operation : undefined));
    online.send({ message: { $case: 'result', result: succeed(op) } });
    await waitUntil(() => updates.some((u) => u.done), 5000, 'the watch to end');
    expect(changeRequestView(tc.ctx.store, request.id)).toMatchObject({
      request: { state: 'cancelled' },
      counts: { succeeded: 1, cancelled: 1 },
    });
    expect(tc.ctx.store.operations.transitionsOf(byNode['cr-3'].id).map((t) => t.to)).toEqual([
      'requested',
      'approved',
      'cancelled',
    ]);
  });

  it('refuses an unknown enrollment token and a CSR that is not one, with their codes', async () => {
    const creds = await tc.nodeCredentials('cr-1');
    const client = new AgentServiceClient(
      tc.address,
      credentials.createSsl(Buffer.from(creds.caPem), Buffer.from(creds.keyPem), Buffer.from(creds.certPem)),
      { 'grpc.ssl_target_name_override': 'localhost' },
    );
    const err = await new Promise<{ code?: number; metadata?: { get(k: string): unknown[] } }>((res) =>
      client.enroll({ token: 't', csrPem: 'x', hostname: 'h' }, (e) => res(e ?? {})),
    );
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(err.metadata?.get('fp-error-code')).toEqual(['FP_TOKEN_INVALID']);
    const err2 = await new Promise<{ code?: number; metadata?: { get(k: string): unknown[] } }>((res) =>
      client.renew({ csrPem: 'x' }, (e) => res(e ?? {})),
    );
    expect(err2.code).toBe(status.INVALID_ARGUMENT);
    expect(err2.metadata?.get('fp-error-code')).toEqual(['FP_CSR_INVALID']);
    client.close();
  });
});
