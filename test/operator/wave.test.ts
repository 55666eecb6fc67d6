/**
 * A wave over 50 nodes through the CLI binary: 45 connected (scripted mTLS agents; the backend does not
 * matter here), one of which fails, and 5 offline. The CLI follows the server stream, prints one row per
 * node, and exits 1; the audit log has one record per outcome. The offline nodes' operations wait, then
 * expire. A dry run changes nothing; more than one node needs --yes without a terminal.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fakeClock } from '../../shared/clock';
import { OperationOutcome, type OperationResult } from '../../shared/gen/fleetpass/v1/common';
import { removeRoot } from '../helpers/controller-harness';
import { accountState, connectScriptedAgent, succeed, type ScriptedAgent } from '../controller/support/scripted-agent';
import { CLI_BUNDLE, startOperatorEnv, waitUntil, type OperatorEnv } from './support/operator-harness';
import { changeRequestView, listNodeViews } from '../../controller/store';
import { verifyChain } from '../helpers/controller-harness';
import { principal } from '../helpers/factories';

const NODES = Array.from({ length: 50 }, (_, i) => `wave-${String(i + 1).padStart(2, '0')}`);
const OFFLINE = NODES.slice(45);
const FAILING = 'wave-13';
const clock = fakeClock('2026-03-02T08:00:00Z');

let env: OperatorEnv;
const agents = new Map<string, ScriptedAgent>();

function fail(op: { id: string; account: string }): OperationResult {
  return {
    operationId: op.id,
    outcome: OperationOutcome.OPERATION_OUTCOME_FAILED,
    errorCode: 'FP_COMMAND_FAILED',
    message: 'faillock --reset exited with status 1',
    before: accountState(op.account, true),
    after: accountState(op.account, true),
    started: new Date(),
    finished: new Date(),
    replayed: false,
    failedStep: '',
    notes: [],
  };
}

const count = (action: string, requestId: string) =>
  env.tc.ctx.audit.query({ filter: { action, requestId }, limit: 1000 }).records;

beforeAll(async () => {
  env = await startOperatorEnv({ clock });
  env.addOperator('otto', 'operator');
  for (const id of NODES) {
    // --label selects by the labels an admin gave; the hello's own (same here) would select nothing.
    env.tc.ctx.store.nodes.ensure(id, clock.now());
    env.tc.ctx.service.setNodeLabels(principal({ name: 'local:test' }), {
      nodeId: id,
      labels: { site: 'bldg4' },
      reason: 'test fleet',
    });
    const creds = await env.tc.nodeCredentials(id);
    agents.set(
      id,
      connectScriptedAgent({
        address: env.tc.address,
        creds,
        hello: { labels: { site: 'bldg4' } },
        answer: id === FAILING ? fail : succeed,
      }),
    );
  }
  await waitUntil(
    () => listNodeViews(env.tc.ctx.store).filter((n) => n.online).length === 50,
    20_000,
    '50 nodes online',
  );
  for (const id of OFFLINE) agents.get(id)!.close();
  await waitUntil(
    () => listNodeViews(env.tc.ctx.store).filter((n) => n.online).length === 45,
    10_000,
    '5 nodes offline',
  );
}, 60_000);

afterAll(async () => {
  for (const a of agents.values()) a.close();
  await env?.stop();
  if (env) removeRoot(env.tc.root);
});

describe('an unlock wave over 50 nodes', () => {
  it('a dry run shows the nodes and the offline ones, and changes nothing', async () => {
    const audit = env.tc.ctx.audit.count();
    const r = await env.cli('otto', [
      'unlock',
      '--label',
      'site=bldg4',
      '--account',
      'ilmnuser',
      '--reason',
      'W-0',
      '--dry-run',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('dry run: would unlock ilmnuser (linux) on 50 node(s)');
    expect(r.stdout).toContain('  wave-46 (offline: waits for it)');
    expect(r.stdout).toContain('nothing was changed');
    expect(env.tc.ctx.store.operations.listRequests()).toEqual([]);
    expect(env.tc.ctx.audit.count()).toBe(audit);
  });

  it('refuses more than one node without --yes when nobody can confirm, changing nothing', async () => {
    const r = await env.cli('otto', ['unlock', '--label', 'site=bldg4', '--account', 'ilmnuser', '--reason', 'W-0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'this would unlock ilmnuser (linux) on 50 node(s); add --yes to confirm without a terminal',
    );
    expect(env.tc.ctx.store.operations.listRequests()).toEqual([]);
  });

  it('reports every node, exits 1, and audits each outcome', async () => {
    const r = await env.cli('otto', [
      'unlock',
      '--label',
      'site=bldg4',
      '--account',
      'ilmnuser',
      '--reason',
      'W-1',
      '--yes',
      '--ttl',
      '10m',
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'error FP_OPERATIONS_FAILED: 6 of 50 node(s) did not succeed (44 succeeded, 1 failed, 5 waiting for offline nodes)',
    );
    const out = JSON.parse(r.stdout) as {
      request: { id: string; reason: string };
      operations: Array<{ nodeId: string; state: string; errorCode?: string; message?: string; nodeOnline?: boolean }>;
      complete: boolean;
    };
    expect(out.complete).toBe(false);
    expect(out.operations).toHaveLength(50);
    const byNode = new Map(out.operations.map((o) => [o.nodeId, o]));
    for (const id of NODES) {
      const o = byNode.get(id)!;
      if (id === FAILING)
        expect(o).toMatchObject({
          state: 'OPERATION_STATE_FAILED',
          errorCode: 'FP_COMMAND_FAILED',
          message: 'faillock --reset exited with status 1',
        });
      else if (OFFLINE.includes(id)) expect(o).toMatchObject({ state: 'OPERATION_STATE_APPROVED' });
      else expect(o.state).toBe('OPERATION_STATE_SUCCEEDED');
      if (OFFLINE.includes(id)) expect(o.nodeOnline ?? false).toBe(false);
    }
    for (const id of OFFLINE) expect(agents.get(id)!.operations()).toEqual([]);

    const id = out.request.id;
    expect(count('request.created', id)).toHaveLength(1);
    expect(JSON.parse(count('request.created', id)[0].detailsJson)).toMatchObject({ nodes: 50, needsApproval: false });
    expect(count('operation.requested', id)).toHaveLength(50);
    expect(
      count('operation.dispatched', id)
        .map((a) => a.nodeId)
        .sort(),
    ).toEqual(NODES.slice(0, 45));
    expect(count('operation.succeeded', id)).toHaveLength(44);
    expect(count('operation.failed', id).map((a) => [a.nodeId, a.actor, a.reason])).toEqual([
      [FAILING, `node:${FAILING}`, 'FP_COMMAND_FAILED'],
    ]);
  });

  it('shows the same wave as a table with `watch`, then the offline nodes expire', async () => {
    const [request] = env.tc.ctx.store.operations.listRequests();
    const w = await env.cli('otto', ['watch', request.id, '--no-wait']);
    expect(w.code).toBe(1);
    const rows = w.stdout.split('\n').filter((l) => /wave-\d\d/.test(l));
    expect(rows).toHaveLength(50);
    expect(rows.find((l) => l.includes(FAILING))).toMatch(
      /failed.*FP_COMMAND_FAILED.*faillock --reset exited with status 1/,
    );
    // The time left is the CLI's own clock against the controller's (a fake one here), so only its shape is checked.
    expect(rows.find((l) => l.includes('wave-47'))).toMatch(/waiting \(node offline, expires in \S+( \S+)?\)/);
    expect(w.stdout).toContain('44 succeeded, 1 failed, 5 waiting for offline nodes');

    clock.advance(11 * 60_000);
    await env.tc.controller.runJob('expire');
    expect(
      count('operation.expired', request.id)
        .map((a) => a.nodeId)
        .sort(),
    ).toEqual(OFFLINE);
    const done = await env.cli('otto', ['watch', request.id, '--json']);
    expect(done.code).toBe(1);
    const states = (JSON.parse(done.stdout) as { operations: Array<{ state: string }> }).operations.map((o) => o.state);
    expect(states.filter((s) => s === 'OPERATION_STATE_EXPIRED')).toHaveLength(5);
    expect(changeRequestView(env.tc.ctx.store, request.id).request.state).toBe('done');
    expect(verifyChain(env.tc.ctx)).toMatchObject({ ok: true });
  });

  it('a wave where every node succeeds exits 0', async () => {
    const r = await env.cli('otto', [
      'unlock',
      '--node',
      'wave-01',
      '--node',
      'wave-02',
      '--account',
      'ilmnuser',
      '--reason',
      'W-2',
      '--yes',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 succeeded');
  });

  it('draws a progress bar on a terminal (util-linux `script` gives the CLI a pty), and none without one', async () => {
    // `script` takes one command line; every part of it is a constant of this test.
    const line = `${process.execPath} ${CLI_BUNDLE} unlock --node wave-03 --node wave-04 --account ilmnuser --reason W-3 --yes`;
    const { stdout } = await promisify(execFile)('script', ['-qec', line, '/dev/null'], {
      env: { PATH: process.env.PATH, HOME: env.tc.root, FLEETPASS_CONFIG: env.configFor('otto'), TERM: 'xterm' },
    });
    expect(stdout).toMatch(/2\/2 nodes done/);
    expect(stdout).toContain('2 succeeded');
    const plain = await env.cli('otto', [
      'unlock',
      '--node',
      'wave-03',
      '--node',
      'wave-04',
      '--account',
      'ilmnuser',
      '--reason',
      'W-4',
      '--yes',
    ]);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toBe('');
    expect(plain.stdout).not.toContain('nodes done');
  });
});
