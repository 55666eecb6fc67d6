/**
 * Who a --label selector reaches is an admin's decision, never a node's: labels in a node's hello are
 * kept apart (shown as "reported") and select nothing; `fleetpass nodes label` (admin, audited) gives the
 * labels selectors match, and a later hello does not change them. A password supplied on stdin for more
 * than one node is refused unless --same-password confirms it. Through the real CLI bundle, with scripted
 * nodes over mTLS.
 */
import { fakeClock } from '../../shared/clock';
import { removeRoot } from '../helpers/controller-harness';
import { connectScriptedAgent, type ScriptedAgent } from '../controller/support/scripted-agent';
import { startOperatorEnv, waitUntil, type OperatorEnv } from './support/operator-harness';
import { changeRequestView, selectNodes } from '../../controller/store';

const clock = fakeClock('2026-03-02T08:00:00Z');
let env: OperatorEnv;
const agents: ScriptedAgent[] = [];

const PASSWORD = 'Shared-Pass-2026!';
const requests = () => env.tc.ctx.store.operations.listRequests();

async function connect(id: string, labels: Record<string, string>): Promise<ScriptedAgent> {
  const a = connectScriptedAgent({
    address: env.tc.address,
    creds: await env.tc.nodeCredentials(id),
    hello: { labels },
  });
  agents.push(a);
  await a.waitFor((m) => (m.message?.$case === 'welcome' ? true : undefined));
  return a;
}

beforeAll(async () => {
  env = await startOperatorEnv({ clock });
  env.addOperator('otto', 'operator');
  // Both claim the building where the shared password is going.
  await connect('lab-1', { site: 'bldg7' });
  await connect('lab-2', { site: 'bldg7', rack: '3' });
}, 30_000);

afterAll(async () => {
  for (const a of agents) a.close();
  await env?.stop();
  if (env) removeRoot(env.tc.root);
});

describe('label selection', () => {
  it('a node choosing its own labels is selected by nothing; they show as reported', async () => {
    const r = await env.cli('otto', [
      'unlock',
      '--label',
      'site=bldg7',
      '--account',
      'ilmnuser',
      '--reason',
      'L-1',
      '--dry-run',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('FP_NO_NODES_MATCHED');
    const list = await env.cli('otto', ['nodes']);
    expect(list.stdout).toMatch(/node\s+│ hostname\s+│ state\s+│ labels\s+│ reported\s+│/);
    expect(list.stdout).toMatch(/lab-2 │ lab-2\.lab │ online │\s+│ rack=3,site=bldg7\s+│/);
    expect(env.tc.ctx.store.nodes.get('lab-2')).toMatchObject({
      labels: {},
      reportedLabels: { site: 'bldg7', rack: '3' },
    });
  });

  it('only an admin gives labels, audited with a reason; then the selector reaches exactly those nodes', async () => {
    const denied = await env.cli('otto', ['nodes', 'label', 'lab-1', 'site=bldg7', '--reason', 'move']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('FP_FORBIDDEN');
    expect(env.tc.ctx.store.nodes.get('lab-1')?.labels).toEqual({});

    const noReason = await env.cli('root-admin', ['nodes', 'label', 'lab-1', 'site=bldg7', '--reason', ' ']);
    expect(noReason.stderr).toContain('FP_REASON_REQUIRED');
    const bad = await env.cli('root-admin', ['nodes', 'label', 'lab-1', 'bad key=x', '--reason', 'r']);
    expect(bad.stderr).toContain('FP_INVALID_ARGUMENT');

    for (const id of ['lab-1', 'lab-2']) {
      const r = await env.cli('root-admin', [
        'nodes',
        'label',
        id,
        'site=bldg7',
        'room=b12',
        '--reason',
        'CHG-40 inventory',
      ]);
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(`node ${id} labels: room=b12,site=bldg7`);
    }
    const audit = env.tc.ctx.audit.query({ filter: { action: 'node.labels_set', nodeId: 'lab-1' } }).records;
    expect(audit.map((a) => [a.actor, a.reason])).toEqual([['root-admin', 'CHG-40 inventory']]);
    expect(JSON.parse(audit[0].detailsJson)).toEqual({ before: {}, after: { site: 'bldg7', room: 'b12' } });

    const r = await env.cli('otto', [
      'unlock',
      '--label',
      'room=b12',
      '--account',
      'ilmnuser',
      '--reason',
      'L-2',
      '--dry-run',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('on 2 node(s)');
    expect(selectNodes(env.tc.ctx.store, { labels: { rack: '3' } })).toEqual([]);
  });

  it('a later hello changes the reported labels only', async () => {
    agents.shift()!.close();
    await waitUntil(() => env.tc.ctx.store.nodes.get('lab-1')?.online === false, 5000, 'lab-1 offline');
    await connect('lab-1', { site: 'bldg9', room: 'x' });
    expect(env.tc.ctx.store.nodes.get('lab-1')).toMatchObject({
      labels: { site: 'bldg7', room: 'b12' },
      reportedLabels: { site: 'bldg9', room: 'x' },
    });
  });
});

describe('a supplied password on many nodes', () => {
  const reset = (extra: string[], selector = ['--label', 'site=bldg7'], reason = 'P-1') =>
    env.cli(
      'otto',
      ['reset', ...selector, '--account', 'ilmnuser', '--password-stdin', '--reason', reason, '--yes', ...extra],
      { stdin: `${PASSWORD}\n` },
    );

  it('is refused without --same-password, and nothing is recorded', async () => {
    const before = requests().length;
    const r = await reset([]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'error FP_SAME_PASSWORD_UNCONFIRMED: the password would be the same on 2 nodes; use --generate for one per node, or confirm with --same-password',
    );
    expect(requests()).toHaveLength(before);
  });

  it('goes to every node with --same-password, and to one node without it', async () => {
    const one = await reset([], ['--node', 'lab-2']);
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
    const both = await reset(['--same-password'], undefined, 'P-3');
    expect(both.stderr).toBe('');
    expect(both.code).toBe(0);
    const request = requests().find((r) => r.reason === 'P-3')!;
    expect(changeRequestView(env.tc.ctx.store, request.id).operations.map((o) => o.nodeId)).toEqual(['lab-1', 'lab-2']);
  });

  it('--same-password makes no sense with generated passwords', async () => {
    const r = await env.cli('otto', [
      'reset',
      '--label',
      'site=bldg7',
      '--account',
      'ilmnuser',
      '--generate',
      '--same-password',
      '--reason',
      'P-2',
      '--yes',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--same-password goes with --password-stdin');
  });
});
