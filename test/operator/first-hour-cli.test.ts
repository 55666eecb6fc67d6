/**
 * The first hour with the CLI (issue 22), against a real controller and a real agent on real PAM: an
 * account the node does not have is refused up front (FP_ACCOUNT_UNKNOWN, naming the node's accounts; no
 * request, nothing sent) through the CLI and the service layer alike; a missing or blank --reason is
 * FP_REASON_REQUIRED as the admin API says it; a mistyped FLEETPASS_CLI_CONFIG says the file does not
 * exist; and `approve` says who approved, and who asked.
 */
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { removeRoot } from '../helpers/controller-harness';
import { createSandboxedNode, type SandboxedNode } from '../helpers/sandboxed-node';
import { storeReads } from '../helpers/store-reads';
import { startOperatorEnv, waitUntil, type OperatorEnv } from './support/operator-harness';

let env: OperatorEnv;
let node: SandboxedNode;

beforeAll(async () => {
  env = await startOperatorEnv();
  env.addOperator('olivia', 'operator');
  env.addOperator('anna', 'approver');
  node = await createSandboxedNode('nextseq-fh1', env.tc.address, await env.tc.nodeCredentials('nextseq-fh1'));
  node.start();
  const reads = storeReads(env.tc.ctx);
  await waitUntil(() => reads.listAccounts().length === 2, 30_000, 'the node to report its two accounts');
}, 60_000);

afterAll(async () => {
  await node?.destroy();
  await env?.stop();
  if (env) removeRoot(env.tc.root);
});

/** Every change request and every audit action so far: a refusal up front must add neither. */
function footprint(): { requests: number; actions: string[] } {
  const rows = env.tc.ctx.store.db.prepare('SELECT action FROM audit_log ORDER BY seq').all() as Array<{
    action: string;
  }>;
  return {
    requests: env.tc.ctx.store.operations.listRequests({}).length,
    actions: rows.map((r) => r.action).filter((a) => a.startsWith('operation.') || a.startsWith('request.')),
  };
}

describe('an account the node does not have', () => {
  it('is refused up front through the CLI, naming the accounts the node reports; nothing is created or sent', async () => {
    const before = footprint();
    const r = await env.cli('olivia', [
      'unlock',
      '--node',
      'nextseq-fh1',
      '--account',
      'nosuchuser',
      '--reason',
      'INC-1',
      '--yes',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error FP_ACCOUNT_UNKNOWN: .*"nosuchuser".*nextseq-fh1 has ilmnadmin, ilmnuser/m);
    expect(footprint()).toEqual(before);
  });

  it('is refused the same way by the service layer the web console calls', async () => {
    const before = footprint();
    await expect(
      env.service.requestOperations(env.principal('olivia'), {
        selection: { nodeIds: ['nextseq-fh1'] },
        backend: Backend.BACKEND_LINUX,
        account: 'nosuchuser',
        action: Action.ACTION_RESET_PASSWORD,
        password: { source: 'generate' },
        reason: 'INC-2',
      }),
    ).rejects.toMatchObject({ code: 'FP_ACCOUNT_UNKNOWN', message: expect.stringContaining('ilmnuser') });
    expect(footprint()).toEqual(before);
  });

  it('still goes to a node that reports it', async () => {
    const r = await env.cli('olivia', [
      'unlock',
      '--node',
      'nextseq-fh1',
      '--account',
      'ilmnuser',
      '--reason',
      'INC-3',
      '--yes',
      '--json',
    ]);
    expect(r.stderr).not.toContain('FP_ACCOUNT_UNKNOWN');
    expect(JSON.parse(r.stdout)).toMatchObject({ request: { account: 'ilmnuser' } });
  });
});

describe('--reason and the CLI config', () => {
  it.each([
    ['missing', []],
    ['empty', ['--reason', '']],
    ['blank', ['--reason', '   ']],
  ])('a %s --reason is FP_REASON_REQUIRED in one line, exit 2, and nothing is sent', async (_what, reason) => {
    const before = footprint();
    const r = await env.cli('olivia', ['unlock', '--node', 'nextseq-fh1', '--account', 'ilmnuser', '--yes', ...reason]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'error FP_REASON_REQUIRED: --reason is required: a ticket number or free text (stored and audited)',
    );
    expect(footprint()).toEqual(before);
  });

  it('says a mistyped FLEETPASS_CLI_CONFIG does not exist, with a code', async () => {
    const r = await env.cli('olivia', ['nodes'], { env: { FLEETPASS_CLI_CONFIG: '/nonexistent/demo-admin.cli.yml' } });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'error FP_CONFIG_NOT_FOUND: the CLI config file /nonexistent/demo-admin.cli.yml (from FLEETPASS_CLI_CONFIG) does not exist',
    );
  });
});

describe('approve', () => {
  it('says who approved and who asked', async () => {
    const asked = await env.cli('olivia', [
      'reset',
      '--node',
      'nextseq-fh1',
      '--account',
      'ilmnadmin',
      '--generate',
      '--reason',
      'INC-4',
      '--yes',
      '--json',
    ]);
    const id = (JSON.parse(asked.stdout) as { request: { id: string } }).request.id;
    const r = await env.cli('anna', ['approve', id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^approved: ${id} .*, approved by anna, asked by olivia: INC-4$`, 'm'));
  });
});
