/**
 * Enrollment driven the way an admin and an installer do it: `fleetpass enroll-token create` (the real
 * CLI, through the admin API, admin role only) prints the token alone on stdout, which is piped into
 * `fleetpass-agent enroll`; the node then runs and is online with the token's labels. Listing and revoking
 * go through the CLI too.
 */
import { createAgentHarness, type AgentHarness, type SpawnedAgent } from '../helpers/agent-harness';
import { removeRoot } from '../helpers/controller-harness';
import { startOperatorEnv, waitUntil, type OperatorEnv } from '../operator/support/operator-harness';
import { agentNode, audit, details, runAgentCommand, tempRoot } from './support/enroll-fixtures';

let env: OperatorEnv;
let harness: AgentHarness;
let root: string;
let agent: SpawnedAgent | undefined;

beforeAll(async () => {
  env = await startOperatorEnv();
  env.addOperator('olga', 'operator');
  harness = await createAgentHarness();
  root = tempRoot('fp-enroll-cli-');
});
afterAll(async () => {
  agent?.kill();
  await harness.cleanup();
  await env.stop();
  removeRoot(env.tc.root);
  removeRoot(root);
});

describe('fleetpass enroll-token', () => {
  it('creates a token an installer pipes into fleetpass-agent enroll; the node comes online with its labels', async () => {
    const created = await env.cli('root-admin', [
      'enroll-token',
      'create',
      '--label',
      'site=lab3',
      '--label',
      'room=b12',
      '--ttl',
      '2h',
    ]);
    expect(created.code).toBe(0);
    const lines = created.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^fpe_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toContain(`--ca-fingerprint ${env.tc.caFingerprint}`);
    expect(created.stderr).toMatch(/node id from the hostname, labels room=b12,site=lab3/);
    const rec = audit(env.tc, 'enrollment.token_created');
    expect(rec[0]).toMatchObject({ actor: 'root-admin', outcome: 'ok' });
    // The secret is base64url and may itself contain "_": take everything after the id.
    const secret = /^fpe_[0-9a-f]{16}_(.+)$/.exec(lines[0])![1];
    expect(secret).toHaveLength(43);
    expect(JSON.stringify(rec)).not.toContain(secret);

    const node = agentNode(root, 'c1', { address: env.tc.address, hostname: 'nx-cli-1' });
    const enrolled = await runAgentCommand(
      ['enroll', '--config', node.configFile, '--controller', env.tc.address, '--ca-fingerprint', env.tc.caFingerprint],
      { stdin: created.stdout },
    );
    expect({ code: enrolled.code, stderr: enrolled.stderr }).toEqual({ code: 0, stderr: '' });
    agent = harness.spawnRun(node.configFile);
    await waitUntil(() => env.tc.ctx.store.nodes.get('nx-cli-1')?.online, 15_000, 'the enrolled node online');
    expect(env.tc.ctx.store.nodes.get('nx-cli-1')?.labels).toEqual({ site: 'lab3', room: 'b12' });

    const nodes = await env.cli('root-admin', ['nodes']);
    expect(nodes.stdout).toMatch(/nx-cli-1\s.*online/);
    const listed = await env.cli('root-admin', ['enroll-token', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('used by nx-cli-1');
    expect(listed.stdout).not.toContain('fpe_');
    agent.sigterm();
    await agent.waitForExit();
    agent = undefined;
  });

  it('lets only admins manage tokens, and a revoked token cannot enroll', async () => {
    const refused = await env.cli('olga', ['enroll-token', 'create']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error FP_FORBIDDEN');
    expect(refused.stdout).toBe('');
    expect(
      details(env.tc.ctx.audit.query({ filter: { action: 'access.denied', actor: 'olga' } }).records[0]),
    ).toMatchObject({ code: 'FP_FORBIDDEN', role: 'operator' });

    const created = await env.cli('root-admin', ['enroll-token', 'create', '--node-id', 'nx-cli-2', '--json']);
    const json = JSON.parse(created.stdout) as { id: string; secret: string; nodeId: string; caFingerprint: string };
    expect(json).toMatchObject({ nodeId: 'nx-cli-2', caFingerprint: env.tc.caFingerprint });
    const revoked = await env.cli('root-admin', ['enroll-token', 'revoke', json.id]);
    expect({ code: revoked.code, out: revoked.stdout.trim() }).toEqual({
      code: 0,
      out: `enrollment token ${json.id} revoked`,
    });
    expect((await env.cli('root-admin', ['enroll-token', 'list'])).stdout).toMatch(
      new RegExp(`${json.id}\\s.*revoked`),
    );

    const node = agentNode(root, 'c2', { address: env.tc.address, hostname: 'nx-cli-2' });
    const r = await runAgentCommand(['enroll', '--config', node.configFile, '--ca-fingerprint', env.tc.caFingerprint], {
      stdin: json.secret,
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'error FP_TOKEN_INVALID: the enrollment token was revoked; ask an admin for a new one',
    );
    expect(env.tc.ctx.store.nodes.get('nx-cli-2')).toBeUndefined();
  });

  it('fleetpass nodes revoke cuts the running agent at once; its certificate is refused from then on', async () => {
    const created = await env.cli('root-admin', ['enroll-token', 'create']);
    const node = agentNode(root, 'c3', { address: env.tc.address, hostname: 'nx-cli-3' });
    expect(
      (
        await runAgentCommand(['enroll', '--config', node.configFile, '--ca-fingerprint', env.tc.caFingerprint], {
          stdin: created.stdout,
        })
      ).code,
    ).toBe(0);
    agent = harness.spawnRun(node.configFile);
    await waitUntil(() => env.tc.ctx.store.nodes.get('nx-cli-3')?.online, 15_000, 'the node online');

    const revoked = await env.cli('root-admin', ['nodes', 'revoke', 'nx-cli-3', '--reason', 'instrument sold']);
    expect({ code: revoked.code, out: revoked.stdout.trim() }).toEqual({ code: 0, out: 'node nx-cli-3 revoked' });
    const cut = await agent.waitForLog(
      (l) => l.msg === 'controller stream failed' && l.code === 'FP_NODE_REVOKED',
      3000,
    );
    expect(cut).toMatchObject({ code: 'FP_NODE_REVOKED' });
    // The agent keeps trying; every attempt is refused and audited, and it never comes back online.
    await waitUntil(
      () => audit(env.tc, 'node.connect_refused').filter((r) => r.nodeId === 'nx-cli-3').length >= 2,
      10_000,
      'refused reconnects',
    );
    expect(env.tc.ctx.store.nodes.get('nx-cli-3')).toMatchObject({ online: false, revoked: true });
    expect(audit(env.tc, 'node.revoked')[0]).toMatchObject({
      actor: 'root-admin',
      nodeId: 'nx-cli-3',
      reason: 'instrument sold',
    });
    expect(env.tc.ctx.enrollment.deps.repo.certificatesOf('nx-cli-3').map((c) => c.revokedReason)).toEqual([
      'node revoked',
    ]);
    agent.sigterm();
    expect((await agent.waitForExit()).code).toBe(0);
    agent = undefined;
  });
});
