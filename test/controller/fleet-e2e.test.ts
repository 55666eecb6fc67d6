/**
 * The controller with several REAL agent processes, each inside its own PAM sandbox with real users and
 * real pam_faillock: nodes come online and report their accounts, locked accounts show up, an unlock is
 * dispatched to the locked nodes only and PAM accepts the user again, an approved password reset reaches
 * its node and PAM takes the new password; the audit chain verifies; the host's accounts are untouched.
 */
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { hostAccountFingerprint } from '../../shared/pam-sandbox';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { USER_PASSWORD, applications, createSandboxedNode, type SandboxedNode } from '../helpers/sandboxed-node';
import { verifyChain } from '../helpers/controller-harness';
import { storeReads } from '../helpers/store-reads';
import { waitUntil } from '../helpers/wait-until';

const NEW_PASSWORD = 'Fleet-e2e-New-pw-77';
let tc: TestController;
const nodes: SandboxedNode[] = [];
let hostBefore: Record<string, string>;

beforeAll(async () => {
  hostBefore = await hostAccountFingerprint();
  tc = await startTestController();
  for (const [i, id] of ['nextseq-a', 'nextseq-b', 'nextseq-c'].entries()) {
    nodes.push(
      await createSandboxedNode(id, tc.address, await tc.nodeCredentials(id), { site: i < 2 ? 'bldg4' : 'bldg7' }),
    );
  }
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.destroy()));
  await tc?.stop();
  removeRoot(tc.root);
  expect(await hostAccountFingerprint()).toEqual(hostBefore);
});

describe('controller and real agents on real PAM', () => {
  it('shows the fleet online with its locked accounts', async () => {
    await nodes[0].sandbox.failLogins('ilmnuser', 3, { rhost: '10.4.0.9' });
    await nodes[2].sandbox.failLogins('ilmnuser', 3);
    for (const n of nodes) n.start();
    const service = storeReads(tc.ctx);
    await waitUntil(
      () => service.listNodes().filter((n) => n.online).length === 3 && service.listAccounts().length === 6,
      20_000,
      'three nodes with their accounts',
    );
    // The site comes from each agent's hello: a reported label (no admin gave these nodes labels).
    expect(service.listNodes().map((n) => [n.id, n.hostname, n.platform, n.reportedLabels.site, n.backends])).toEqual([
      ['nextseq-a', 'nextseq-a.lab', 'nextseq-2000', 'bldg4', [Backend.BACKEND_LINUX]],
      ['nextseq-b', 'nextseq-b.lab', 'nextseq-2000', 'bldg4', [Backend.BACKEND_LINUX]],
      ['nextseq-c', 'nextseq-c.lab', 'nextseq-2000', 'bldg7', [Backend.BACKEND_LINUX]],
    ]);
    // Locked accounts come most time left first. The two locks were made a moment apart and faillock counts whole
    // seconds, so which ends later depends on the machine's speed: check the set, then the documented order.
    const locked = service.listAccounts({ lockedOnly: true });
    expect(locked.map((a) => [a.node.id, a.account.state.account, a.account.state.failureCount]).sort()).toEqual([
      ['nextseq-a', 'ilmnuser', 3],
      ['nextseq-c', 'ilmnuser', 3],
    ]);
    const ends = locked.map((a) => a.account.state.lockEnds!.getTime());
    expect(ends[0]).toBeGreaterThanOrEqual(ends[1]);
    expect(locked.find((a) => a.node.id === 'nextseq-a')!.account.state.lastFailureSource).toBe('10.4.0.9');
  });

  it('unlocks the locked nodes only, and PAM accepts the user again', async () => {
    const service = storeReads(tc.ctx);
    expect(await nodes[0].sandbox.authenticate('ilmnuser', USER_PASSWORD)).toBe(false);
    const targets = service.selectNodes({
      all: true,
      lockedOnly: true,
      account: 'ilmnuser',
      backend: Backend.BACKEND_LINUX,
    });
    expect(targets.map((n) => n.id)).toEqual(['nextseq-a', 'nextseq-c']);
    const { request } = await tc.request({
      nodeIds: targets.map((n) => n.id),
      account: 'ilmnuser',
      action: Action.ACTION_UNLOCK,
      reason: 'INC-1042',
    });
    await waitUntil(() => service.getChangeRequest(request.id).request.state === 'done', 15_000, 'the unlock wave');
    const view = service.getChangeRequest(request.id);
    expect(view.counts).toEqual({ succeeded: 2 });
    for (const op of view.operations) {
      expect(op.before).toMatchObject({ locked: true, failureCount: 3 });
      expect(op.after).toMatchObject({ locked: false, failureCount: 0 });
      const agent = nodes.find((n) => n.nodeId === op.nodeId)!.agent!;
      await agent.waitForLog((l) => l.operationId === op.id && l.msg === 'operation succeeded'); // stdout may trail the result
      expect(applications(agent, op.id)).toBe(1);
    }
    expect(await nodes[0].sandbox.authenticate('ilmnuser', USER_PASSWORD)).toBe(true);
    expect(await nodes[2].sandbox.authenticate('ilmnuser', USER_PASSWORD)).toBe(true);
    expect(service.listAccounts({ lockedOnly: true })).toEqual([]);
    expect(
      service
        .queryAudit({ filter: { requestId: request.id, action: 'operation.succeeded' } })
        .records.map((r) => r.nodeId)
        .sort(),
    ).toEqual(['nextseq-a', 'nextseq-c']);
  });

  it('holds a privileged reset for approval, then sets the new password on the node', async () => {
    const service = storeReads(tc.ctx);
    const { request, operations } = await tc.request({
      nodeIds: ['nextseq-b'],
      account: 'ilmnuser',
      action: Action.ACTION_RESET_PASSWORD,
      needsApproval: true,
      privileged: true,
      targets: [{ nodeId: 'nextseq-b', secret: NEW_PASSWORD }],
      reason: 'CHG-77',
    });
    expect(request.state).toBe('pending_approval');
    await new Promise((r) => setTimeout(r, 300));
    expect(nodes[1].agent!.logs().some((l) => l.operationId === operations[0].id)).toBe(false);
    await expect(service.approveChangeRequest(request.id, { actor: 'alice' })).rejects.toMatchObject({
      code: 'FP_SELF_APPROVAL',
    });
    await service.approveChangeRequest(request.id, { actor: 'bob', note: 'checked' });
    await waitUntil(() => service.getChangeRequest(request.id).request.state === 'done', 15_000, 'the reset');
    expect(service.getOperation(operations[0].id)?.state).toBe('succeeded');
    expect(await nodes[1].sandbox.authenticate('ilmnuser', NEW_PASSWORD)).toBe(true);
    expect(await nodes[1].sandbox.authenticate('ilmnuser', USER_PASSWORD)).toBe(false);
    expect(nodes[1].agent!.stdout()).not.toContain(NEW_PASSWORD);
  });

  it('keeps a chain that verifies', () => {
    expect(verifyChain(tc.ctx)).toMatchObject({ ok: true, brokenAt: 0 });
  });
});
