/**
 * Escrow as IT uses it, through the real `fleetpass` CLI against a real agent in a PAM sandbox: a reset's
 * password is escrowed and revealed (pamtester accepts it), a viewer cannot reveal, the post-use rotation
 * after the grace period changes the password on the node (the old one stops working, the newly escrowed
 * one works), a privileged reveal waits for a second person and is collected once. Every reveal and
 * rotation is audited and the chain verifies; no password is in the database files, the logs or the
 * agent's output. Time is a fake clock moved forward, never a sleep.
 */
import { hostAccountFingerprint } from '../../shared/pam-sandbox';
import { fakeClock } from '../../shared/clock';
import { captureLogs, removeRoot, type LogCapture } from '../helpers/controller-harness';
import { USER_PASSWORD, createSandboxedNode, type SandboxedNode } from '../helpers/sandboxed-node';
import { waitUntil } from '../operator/support/operator-harness';
import { containsSecret, databaseBytes, startEscrowEnv, type EscrowEnv } from './support/escrow-env';
import { listAccountViews } from '../../controller/store';
import { storeReads } from '../helpers/store-reads';

const NODE = 'nextseq-esc1';
const ADMIN_PASSWORD = 'Ilmn-admin-pw-1';
const GRACE_SECONDS = 600;

let env: EscrowEnv;
let logs: LogCapture;
let node: SandboxedNode;
let hostBefore: Record<string, string>;
const clock = fakeClock(new Date());
/** Every password fleetpass set or showed in this file. */
const seen = new Set<string>();

interface RevealJson {
  state: string;
  revealId: string;
  password?: string;
  rotateAfter?: string;
}

async function revealJson(who: string, args: string[]): Promise<RevealJson> {
  const r = await env.cli(who, ['reveal', ...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as RevealJson;
  if (out.password) seen.add(out.password);
  return out;
}

const reveal = (who: string, account: string, reason: string) =>
  revealJson(who, ['--node', NODE, '--account', account, '--reason', reason]);

async function settled(requestId: string): Promise<string[]> {
  const service = storeReads(env.tc.ctx);
  await waitUntil(() => service.getChangeRequest(requestId).request.state === 'done', 20_000, 'the rotation to finish');
  return service.getChangeRequest(requestId).operations.map((o) => o.state);
}

beforeAll(async () => {
  hostBefore = await hostAccountFingerprint();
  logs = captureLogs('debug');
  env = await startEscrowEnv({
    clock,
    log: logs.logger,
    config: {
      escrow: {
        postUseGraceSeconds: GRACE_SECONDS,
        classes: [
          {
            name: 'privileged',
            accounts: [{ backend: 'linux', account: 'ilmnadmin' }],
            revealNeedsApproval: true,
            rotateAfterReveal: true,
          },
          { name: 'lab-users', accounts: [{ backend: 'linux', account: 'ilmnuser' }] },
        ],
      },
    },
  });
  env.addOperator('olivia', 'operator');
  env.addOperator('abe', 'approver');
  env.addOperator('ann', 'approver');
  env.addOperator('vera', 'viewer');
  node = await createSandboxedNode(
    NODE,
    env.tc.address,
    await env.tc.nodeCredentials(NODE),
    { site: 'bldg4' },
    {
      policy: {
        accounts: [
          { backend: 'linux', account: 'ilmnuser', actions: ['unlock', 'reset_password', 'refresh_state'] },
          { backend: 'linux', account: 'ilmnadmin', actions: ['unlock', 'reset_password', 'refresh_state'] },
        ],
      },
    },
  );
  node.start();
  await waitUntil(() => listAccountViews(env.tc.ctx.store).length === 2, 20_000, 'the node to report its accounts');
});

afterAll(async () => {
  await node?.destroy();
  await env?.stop();
  if (env) removeRoot(env.tc.root);
  expect(await hostAccountFingerprint()).toEqual(hostBefore);
});

describe('reveal and post-use rotation on real PAM', () => {
  let first = '';
  let rotated = '';

  it('escrows the password of a reset; reveal returns the one PAM accepts', async () => {
    const r = await env.cli('olivia', [
      'reset',
      '--node',
      NODE,
      '--account',
      'ilmnuser',
      '--generate',
      '--reason',
      'T-1',
      '--yes',
      '--json',
    ]);
    expect(r.code).toBe(0);
    first = (JSON.parse(r.stdout) as { generatedPasswords: Array<{ password: string }> }).generatedPasswords[0]
      .password;
    seen.add(first);
    const shown = await reveal('olivia', 'ilmnuser', 'INC-42 user locked out of the run');
    expect(shown).toMatchObject({ state: 'revealed', password: first });
    expect(new Date(shown.rotateAfter!).getTime()).toBe(clock.now().getTime() + GRACE_SECONDS * 1000);
    expect(await node.sandbox.authenticate('ilmnuser', shown.password!)).toBe(true);
    expect(await node.sandbox.authenticate('ilmnuser', USER_PASSWORD)).toBe(false);

    const human = await env.cli('olivia', [
      'reveal',
      '--node',
      NODE,
      '--account',
      'ilmnuser',
      '--reason',
      'INC-42 again',
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout.split('\n')[1]).toBe(first);
    expect(human.stdout).toMatch(/will be changed after .* \(post-use rotation\)/);
  });

  it('a viewer cannot reveal; the refusal is audited', async () => {
    const r = await env.cli('vera', ['reveal', '--node', NODE, '--account', 'ilmnuser', '--reason', 'curious']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe('error FP_FORBIDDEN: your role (viewer) does not allow revealing passwords');
    const denied = env.tc.ctx.audit.query({ filter: { action: 'access.denied', actor: 'vera' } }).records;
    expect(denied.map((d) => [d.nodeId, d.account, d.reason])).toEqual([[NODE, 'ilmnuser', 'curious']]);
  });

  it('rotates the account when the grace period ends: the old password stops working, the new escrowed one works', async () => {
    const engine = env.escrow.engine();
    expect((await engine.runRotations()).requests).toEqual([]);
    clock.advance(GRACE_SECONDS * 1000 + 1000);
    const pass = await engine.runRotations();
    expect(pass.requests).toHaveLength(1);
    const cr = pass.requests[0].request;
    expect(cr).toMatchObject({
      requestedBy: 'escrow:rotation',
      needsApproval: false,
      requireIdle: true,
      account: 'ilmnuser',
    });
    expect(cr.reason).toMatch(/^post-use \(reveal /);
    expect(await settled(cr.id)).toEqual(['succeeded']);

    const shown = await reveal('olivia', 'ilmnuser', 'INC-43 after rotation');
    rotated = shown.password!;
    expect(rotated).not.toBe(first);
    expect(await node.sandbox.authenticate('ilmnuser', rotated)).toBe(true);
    expect(await node.sandbox.authenticate('ilmnuser', first)).toBe(false);

    const status = await env.cli('vera', ['escrow', 'status', '--json']);
    expect(status.code).toBe(0);
    const entry = (JSON.parse(status.stdout) as Array<Record<string, unknown>>).find((e) => e.account === 'ilmnuser')!;
    expect(entry).toMatchObject({
      nodeId: NODE,
      setBy: 'escrow:rotation',
      versions: 2,
      rotationClass: 'lab-users',
      lastRotationOutcome: 'succeeded',
    });
    expect(entry.lastRevealed).toBe(clock.now().toISOString());
    expect(String(entry.rotationReason)).toMatch(/^post-use/);
  });

  it('a privileged reveal waits for a second person, who cannot be the requester, and is collected once', async () => {
    const rot = await env.cli('olivia', [
      'rotate',
      '--node',
      NODE,
      '--account',
      'ilmnadmin',
      '--reason',
      'CHG-9 escrow the admin password',
    ]);
    expect(rot.stderr).toBe('');
    expect(rot.code).toBe(0);
    expect(await node.sandbox.authenticate('ilmnadmin', ADMIN_PASSWORD)).toBe(false);

    // abe is an approver: he may approve other people's reveals, never his own.
    const asked = await reveal('abe', 'ilmnadmin', 'INC-44 service visit');
    expect(asked).toEqual({ state: 'pending-approval', revealId: expect.any(String) });
    const id = asked.revealId;

    const self = await env.cli('abe', ['escrow', 'approve', id]);
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/^error FP_SELF_APPROVAL: /);
    const operator = await env.cli('olivia', ['escrow', 'approve', id]);
    expect(operator.code).toBe(1);
    expect(operator.stderr).toMatch(/^error FP_FORBIDDEN: /);
    const early = await env.cli('abe', ['reveal', '--collect', id]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/^error FP_REVEAL_PENDING: /);

    const ok = await env.cli('ann', ['escrow', 'approve', id, '--note', 'visit confirmed']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`fleetpass reveal --collect ${id}`);
    const other = await env.cli('olivia', ['reveal', '--collect', id]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^error FP_REVEAL_NOT_COLLECTABLE: /);

    const got = await revealJson('abe', ['--collect', id]);
    expect(got.state).toBe('revealed');
    expect(await node.sandbox.authenticate('ilmnadmin', got.password!)).toBe(true);
    const again = await env.cli('abe', ['reveal', '--collect', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error FP_REVEAL_NOT_COLLECTABLE: .*collected/);

    const list = await env.cli('vera', ['escrow', 'reveals', '--json']);
    const mine = (JSON.parse(list.stdout) as Array<Record<string, unknown>>).find((r) => r.id === id)!;
    expect(mine).toMatchObject({
      requestedBy: 'abe',
      decidedBy: 'ann',
      state: 'REVEAL_STATE_REVEALED',
      reason: 'INC-44 service visit',
    });
  });

  it('audits every reveal, decision and rotation (never a password); the chain verifies', async () => {
    const service = storeReads(env.tc.ctx);
    const records = [...service.iterateAudit()];
    const rows = (action: string) => records.filter((r) => r.action === action);
    expect(rows('escrow.revealed').map((r) => [r.actor, r.account, r.reason])).toEqual([
      ['olivia', 'ilmnuser', 'INC-42 user locked out of the run'],
      ['olivia', 'ilmnuser', 'INC-42 again'],
      ['olivia', 'ilmnuser', 'INC-43 after rotation'],
      ['abe', 'ilmnadmin', 'INC-44 service visit'],
    ]);
    expect(rows('escrow.reveal.requested').map((r) => [r.actor, r.account])).toEqual([['abe', 'ilmnadmin']]);
    expect(rows('escrow.reveal.approved').map((r) => [r.actor, r.reason])).toEqual([['ann', 'visit confirmed']]);
    expect(rows('escrow.rotation.requested').map((r) => [r.actor, r.account, r.reason])).toEqual([
      ['olivia', 'ilmnadmin', 'CHG-9 escrow the admin password'],
    ]);
    const rotations = rows('request.created').filter((r) => r.actor === 'escrow:rotation');
    expect(rotations.map((r) => r.account)).toEqual(['ilmnuser', 'ilmnadmin']);
    expect(rows('escrow.stored')).toHaveLength(3);
    const selfApproval = rows('access.denied').find(
      (r) => r.actor === 'abe' && JSON.parse(r.detailsJson).code === 'FP_SELF_APPROVAL',
    );
    expect(selfApproval).toBeDefined();
    const text = JSON.stringify(records);
    for (const pw of seen) expect(text).not.toContain(pw);
    expect((await env.cli('vera', ['audit', 'verify'])).code).toBe(0);
    expect(service.verifyAudit()).toMatchObject({ ok: true });
  });

  it('keeps every password out of the database files (WAL included), the controller log and the agent output', () => {
    expect(seen.size).toBe(3);
    const files = databaseBytes(env);
    for (const pw of seen) {
      expect(containsSecret(files, pw)).toBe(false);
      expect(logs.text()).not.toContain(pw);
      expect(node.agent!.stdout()).not.toContain(pw);
    }
    expect(logs.text()).toContain('password revealed');
  });
});
