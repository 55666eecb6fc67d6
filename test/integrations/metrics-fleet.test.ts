/**
 * /metrics against the fleet's real state: three REAL agent processes in PAM sandboxes, two accounts
 * locked by real failed logins through pam_faillock. The exposition passes `promtool check metrics`;
 * fleetpass_locked_accounts says 2 (one per site), then 1 after a real unlock; nodes, operations, change
 * requests waiting for approval, audit appends, integrity, certificate expiry and a dead sink's lag and
 * failures are there with the values the fleet and the data file hold.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Action } from '../../shared/gen/fleetpass/v1/common';
import { hostAccountFingerprint } from '../../shared/pam-sandbox';
import { readCertificateInfo } from '../../shared/pki';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { USER_PASSWORD, createSandboxedNode, type SandboxedNode } from '../helpers/sandboxed-node';
import { storeReads } from '../helpers/store-reads';
import { waitUntil } from '../helpers/wait-until';
import { parseSamples, promtoolCheckMetrics, samples, sum, type Sample } from './support/prometheus-text';
import { writeTestCa } from './support/test-ca';

let tc: TestController;
let dir: string;
const nodes: SandboxedNode[] = [];
let hostBefore: Record<string, string>;

beforeAll(async () => {
  hostBefore = await hostAccountFingerprint();
  dir = mkdtempSync(join(tmpdir(), 'fp-metrics-'));
  const dead = await writeTestCa(dir, 'nobody');
  // A sink whose collector does not exist: its lag and failures must show.
  tc = await startTestController({
    config: {
      audit: {
        sinks: [
          {
            name: 'dead-siem',
            type: 'https-json',
            url: 'https://127.0.0.1:9/fleetpass',
            caFile: dead.caFile,
            maxRetrySeconds: 0.2,
          },
        ],
      },
    },
  });
  for (const [i, id] of ['metrics-a', 'metrics-b', 'metrics-c'].entries()) {
    nodes.push(
      await createSandboxedNode(id, tc.address, await tc.nodeCredentials(id), { site: i < 2 ? 'bldg4' : 'bldg7' }),
    );
  }
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.destroy()));
  await tc?.stop();
  removeRoot(tc.root);
  removeRoot(dir);
  expect(await hostAccountFingerprint()).toEqual(hostBefore);
});

async function scrape(): Promise<{ text: string; all: Sample[] }> {
  const res = await fetch(`${tc.ctx.integrations.metricsUrl()}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, all: parseSamples(text) };
}

describe('/metrics on a real fleet', () => {
  it('passes promtool and counts the two accounts real failed logins locked', async () => {
    await nodes[0].sandbox.failLogins('ilmnuser', 3);
    await nodes[2].sandbox.failLogins('ilmnuser', 3);
    for (const n of nodes) n.start();
    const service = storeReads(tc.ctx);
    await waitUntil(
      () =>
        service.listNodes().filter((n) => n.online).length === 3 &&
        service.listAccounts().length === 6 &&
        service.listAccounts({ lockedOnly: true }).length === 2,
      30_000,
      'three nodes with two locked accounts',
    );

    const { text, all } = await scrape();
    expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: '' });
    for (const name of [
      'fleetpass_nodes',
      'fleetpass_locked_accounts',
      'fleetpass_audit_integrity',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
    }
    expect(sum(all, 'fleetpass_locked_accounts')).toBe(2);
    expect(
      samples(all, 'fleetpass_locked_accounts')
        .map((s) => [s.labels.site, s.labels.backend, s.value])
        .sort(),
    ).toEqual([
      ['bldg4', 'linux', 1],
      ['bldg7', 'linux', 1],
    ]);
    expect(sum(all, 'fleetpass_nodes', { state: 'online' })).toBe(3);
    expect(sum(all, 'fleetpass_nodes', { state: 'offline' })).toBe(0);
    expect(sum(all, 'fleetpass_audit_integrity')).toBe(1);
    expect(sum(all, 'fleetpass_audit_appends_total')).toBeGreaterThan(0);
    expect(sum(all, 'fleetpass_audit_append_failures_total')).toBe(0);
    const caExpiry = readCertificateInfo(tc.ctx.pki.ca.certPem).notAfter.getTime() / 1000;
    expect(sum(all, 'fleetpass_certificate_expiry_timestamp_seconds', { certificate: 'ca' })).toBe(caExpiry);
    const soonest = Math.min(...service.listNodes().map((n) => Date.parse(n.certificateExpires!) / 1000));
    expect(sum(all, 'fleetpass_certificate_expiry_timestamp_seconds', { certificate: 'node_soonest' })).toBe(soonest);
  });

  it('follows the fleet: an unlock leaves 1 locked, a held request waits for approval, the dead sink lags', async () => {
    const service = storeReads(tc.ctx);
    const { request } = await tc.request({
      nodeIds: ['metrics-a'],
      account: 'ilmnuser',
      action: Action.ACTION_UNLOCK,
      reason: 'INC-9464',
    });
    await waitUntil(() => service.getChangeRequest(request.id).request.state === 'done', 30_000, 'the unlock');
    expect(await nodes[0].sandbox.authenticate('ilmnuser', USER_PASSWORD)).toBe(true);
    await waitUntil(
      () => service.listAccounts({ lockedOnly: true }).length === 1,
      30_000,
      'the account state to update',
    );
    await tc.request({
      nodeIds: ['metrics-b'],
      account: 'ilmnadmin',
      action: Action.ACTION_UNLOCK,
      needsApproval: true,
      privileged: true,
      reason: 'CHG-1',
    });
    await waitUntil(() => tc.ctx.integrations.sinks()[0].failures >= 2, 30_000, 'the dead sink to fail twice');

    const headBefore = tc.ctx.audit.head().seq;
    const { text, all } = await scrape();
    const headAfter = tc.ctx.audit.head().seq;
    expect(promtoolCheckMetrics(text).status).toBe(0);
    expect(sum(all, 'fleetpass_locked_accounts')).toBe(1);
    expect(samples(all, 'fleetpass_locked_accounts').map((s) => s.labels.site)).toEqual(['bldg7']);
    expect(sum(all, 'fleetpass_operations', { action: 'unlock', outcome: 'succeeded' })).toBe(1);
    expect(sum(all, 'fleetpass_change_requests_pending_approval')).toBe(1);
    // Nothing ever reached the dead sink: its lag is the whole log at the time of the scrape.
    const lag = sum(all, 'fleetpass_audit_sink_lag_records', { sink: 'dead-siem' });
    expect(lag).toBeGreaterThanOrEqual(headBefore);
    expect(lag).toBeLessThanOrEqual(headAfter);
    expect(sum(all, 'fleetpass_audit_sink_lag_seconds', { sink: 'dead-siem' })).toBeGreaterThan(0);
    expect(sum(all, 'fleetpass_audit_sink_delivery_failures_total', { sink: 'dead-siem' })).toBeGreaterThanOrEqual(2);
    expect(sum(all, 'fleetpass_audit_sink_required', { sink: 'dead-siem' })).toBe(0);
    // The dead sink never held anything up, and /readyz does not count a sink that is not required.
    expect((await fetch(`${tc.ctx.integrations.metricsUrl()}/readyz`)).status).toBe(200);
  });
});
