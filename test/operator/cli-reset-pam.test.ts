/**
 * The everyday path, as IT does it: an account locked for real (3 wrong passwords through pamtester in a
 * PAM sandbox, real agent process inside), seen with `fleetpass accounts` (locked first, time left), reset
 * with `fleetpass reset --generate` through the CLI binary, and the new password accepted by PAM while the
 * old one is refused. The generated password is in the requester's output only: not in the controller's
 * log, the database file (raw bytes, WAL included) or the audit log.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { hostAccountFingerprint } from '../../shared/pam-sandbox';
import { captureLogs, removeRoot, type LogCapture } from '../helpers/controller-harness';
import { USER_PASSWORD, createSandboxedNode, type SandboxedNode } from '../helpers/sandboxed-node';
import { startOperatorEnv, waitUntil, type OperatorEnv } from './support/operator-harness';
import { listAccountViews } from '../../controller/store';
import { storeReads } from '../helpers/store-reads';

let env: OperatorEnv;
let logs: LogCapture;
let node: SandboxedNode;
let hostBefore: Record<string, string>;

beforeAll(async () => {
  hostBefore = await hostAccountFingerprint();
  logs = captureLogs('debug');
  env = await startOperatorEnv({ log: logs.logger });
  env.addOperator('olivia', 'operator');
  env.addOperator('vera', 'viewer');
  node = await createSandboxedNode('nextseq-ops1', env.tc.address, await env.tc.nodeCredentials('nextseq-ops1'), {
    site: 'bldg4',
  });
});

afterAll(async () => {
  await node?.destroy();
  await env?.stop();
  if (env) removeRoot(env.tc.root);
  expect(await hostAccountFingerprint()).toEqual(hostBefore);
});

describe('fleetpass CLI against a real agent on real PAM', () => {
  let generated = '';

  it('shows the locked account first, with the time left on the lock', async () => {
    await node.sandbox.failLogins('ilmnuser', 3, { rhost: '10.9.9.9' });
    expect(await node.sandbox.authenticate('ilmnuser', USER_PASSWORD)).toBe(false);
    node.start();
    const service = storeReads(env.tc.ctx);
    await waitUntil(
      () => service.listAccounts({ lockedOnly: true }).length === 1 && service.listAccounts().length === 2,
      20_000,
      'the locked account report',
    );

    const json = await env.cli('vera', ['accounts', '--json']);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as Array<{
      nodeId: string;
      nodeOnline: boolean;
      state: { account: string; locked?: boolean; failureCount?: number; lockEnds?: string };
      privileged?: boolean;
    }>;
    expect(rows.map((r) => [r.nodeId, r.state.account, r.state.locked ?? false])).toEqual([
      ['nextseq-ops1', 'ilmnuser', true],
      ['nextseq-ops1', 'ilmnadmin', false],
    ]);
    expect(rows[0].state.failureCount).toBe(3);
    expect(rows[1].privileged).toBe(true);
    const left = new Date(rows[0].state.lockEnds!).getTime() - Date.now();
    expect(left).toBeGreaterThan(500_000);
    expect(left).toBeLessThanOrEqual(600_000);

    const human = await env.cli('vera', ['accounts']);
    expect(human.code).toBe(0);
    const lines = human.stdout.split('\n').filter((l) => l.includes('nextseq-ops1'));
    expect(lines[0]).toMatch(/ilmnuser.*LOCKED \(too many failures\).*3\/3.*\b(9|10)m \d+s/);
    expect(lines[1]).toMatch(/ilmnadmin \*.*\bok\b/);
  });

  it('a viewer cannot reset; the refusal is audited and nothing is sent', async () => {
    const r = await env.cli('vera', [
      'reset',
      '--node',
      'nextseq-ops1',
      '--account',
      'ilmnuser',
      '--generate',
      '--reason',
      'T-0',
      '--yes',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error FP_FORBIDDEN: your role (viewer) does not allow asking for unlocks and resets');
    expect(env.tc.ctx.store.operations.listRequests()).toEqual([]);
    const denied = env.tc.ctx.audit.query({ filter: { action: 'access.denied', actor: 'vera' } }).records;
    expect(denied).toHaveLength(1);
    expect(JSON.parse(denied[0].detailsJson)).toMatchObject({
      code: 'FP_FORBIDDEN',
      permission: 'operations.request',
      role: 'viewer',
    });
  });

  it('resets the password with --generate; PAM takes the new one and refuses the old one', async () => {
    const r = await env.cli('olivia', [
      'reset',
      '--node',
      'nextseq-ops1',
      '--account',
      'ilmnuser',
      '--generate',
      '--reason',
      'T-1',
      '--yes',
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      request: { state: string; reason: string; requestedBy: string };
      operations: Array<{ nodeId: string; state: string; before: { locked: boolean }; after: { locked?: boolean } }>;
      generatedPasswords: Array<{ nodeId: string; password: string }>;
    };
    expect(out.request).toMatchObject({ state: 'CHANGE_REQUEST_STATE_DONE', reason: 'T-1', requestedBy: 'olivia' });
    expect(out.operations.map((o) => [o.nodeId, o.state])).toEqual([['nextseq-ops1', 'OPERATION_STATE_SUCCEEDED']]);
    expect(out.operations[0].before.locked).toBe(true);
    expect(out.operations[0].after.locked ?? false).toBe(false);
    expect(out.generatedPasswords).toHaveLength(1);
    generated = out.generatedPasswords[0].password;
    // Typeable by default (no $ % # ~ ^ ? for an instrument's keyboard or a shell), one longer for the same strength.
    expect(generated).toMatch(/^[A-Za-z2-9._+-]{21}$/);
    for (const re of [/[A-Z]/, /[a-z]/, /[0-9]/, /[^A-Za-z0-9]/]) expect(generated).toMatch(re);

    expect(await node.sandbox.authenticate('ilmnuser', generated)).toBe(true);
    expect(await node.sandbox.authenticate('ilmnuser', USER_PASSWORD)).toBe(false);
    await waitUntil(
      () => listAccountViews(env.tc.ctx.store, { lockedOnly: true }).length === 0,
      10_000,
      'the unlocked state',
    );
  });

  it('audits who reset what and why, that a password was set, and never which', () => {
    const service = storeReads(env.tc.ctx);
    const records = [...service.iterateAudit()];
    const created = records.find((r) => r.action === 'request.created' && r.actor === 'olivia')!;
    expect(created).toMatchObject({ reason: 'T-1', account: 'ilmnuser' });
    const requested = records.find((r) => r.action === 'operation.requested' && r.actor === 'olivia')!;
    expect(JSON.parse(requested.detailsJson)).toMatchObject({ passwordSet: true });
    expect(records.some((r) => r.action === 'operation.succeeded' && r.nodeId === 'nextseq-ops1')).toBe(true);
    expect(JSON.stringify(records)).not.toContain(generated);
    expect(service.verifyAudit()).toMatchObject({ ok: true });
  });

  it('keeps the generated password out of the log and the database files', () => {
    expect(generated.length).toBeGreaterThan(0);
    expect(logs.text()).not.toContain(generated);
    expect(logs.text()).toContain('change request created');
    env.tc.ctx.store.db.pragma('wal_checkpoint(PASSIVE)');
    const files = readdirSync(env.tc.stateDir).filter((f) => f.startsWith('fleetpass.db'));
    expect(files).toContain('fleetpass.db');
    for (const f of files) {
      const bytes = readFileSync(join(env.tc.stateDir, f));
      expect(bytes.includes(Buffer.from(generated, 'utf8'))).toBe(false);
    }
    expect(node.agent!.stdout()).not.toContain(generated);
  });
});
