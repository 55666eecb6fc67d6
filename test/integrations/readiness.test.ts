/**
 * /healthz and /readyz with real failures: the data file's ext4 file system stops taking writes (the
 * method of test/reliability/read-only-database.test.ts) and the audit chain is edited behind the
 * controller's back with the sqlite3 tool. /readyz answers 503 with the reason as JSON, the metrics say
 * so (append failures counted, integrity 0), and it is 200 again once fixed. Also: the bearer token and
 * mutual TLS protections of the listener.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueClientCertificate } from '../../shared/pki';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { createExt4Volume, type Ext4Volume } from '../reliability/support/ext4-volume';
import { waitUntil } from '../helpers/wait-until';
import { parseSamples, sum } from './support/prometheus-text';

let tc: TestController | undefined;
let volume: Ext4Volume | undefined;

afterEach(async () => {
  await tc?.stop().catch(() => undefined);
  if (tc && !volume) removeRoot(tc.root);
  tc = undefined;
  volume?.destroy();
  volume = undefined;
});

async function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${tc!.ctx.integrations.metricsUrl()}${path}`, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function metric(name: string): Promise<number> {
  return sum(parseSamples(await (await fetch(`${tc!.ctx.integrations.metricsUrl()}/metrics`)).text()), name);
}

describe('/readyz', () => {
  it('is 503 while the data file takes no writes, and 200 again on the file system mounted again', async () => {
    volume = createExt4Volume();
    tc = await startTestController({ root: volume.mountPoint });
    tc.ctx.store.nodes.ensure('ro-node', new Date());
    expect(await get('/readyz')).toEqual({
      status: 200,
      body: {
        status: 'ready',
        ready: true,
        checks: { database: true, auditIntegrity: true, requiredSinks: true },
        reasons: [],
      },
    });

    volume.stopWrites();
    const r = await get('/readyz');
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ status: 'not ready', ready: false, checks: { database: false } });
    expect((r.body.reasons as string[])[0]).toMatch(
      /^the database does not take writes \(SQLITE_(IOERR|READONLY|CORRUPT)/,
    );
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'up' } });
    // A change that cannot be recorded is refused and counted.
    expect(await metric('fleetpass_audit_append_failures_total')).toBe(0);
    await expect(tc.request({ nodeIds: ['ro-node'], reason: 'INC-ro' })).rejects.toMatchObject({
      code: 'FP_AUDIT_WRITE_FAILED',
    });
    expect(await metric('fleetpass_audit_append_failures_total')).toBe(1);
    await tc.stop();

    await volume.remount();
    tc = await startTestController({ root: volume.mountPoint });
    expect((await get('/readyz')).status).toBe(200);
  });

  it('is 503 while the audit chain does not verify, and 200 again once the record is put back', async () => {
    tc = await startTestController({ config: { metrics: { integrityCheckSeconds: 0.2 } } });
    tc.ctx.store.nodes.ensure('chain-node', new Date());
    await tc.request({ nodeIds: ['chain-node'], reason: 'INC-original' });
    const [created] = tc.ctx.audit.query({ filter: { action: 'request.created' } }).records;
    const { seq, reason: original } = created;
    expect(original).toBe('INC-original');
    expect((await get('/readyz')).status).toBe(200);
    const sqlite = (sql: string) => execFileSync('sqlite3', [tc!.config.database, sql]);
    const edit = (reason: string) =>
      sqlite(
        `DROP TRIGGER audit_log_no_update; UPDATE audit_log SET reason = '${reason}' WHERE seq = ${seq}; CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;`,
      );

    edit('nothing to see');
    const broken = await waitUntil(
      async () => {
        const r = await get('/readyz');
        return r.status === 503 ? r : undefined;
      },
      30_000,
      '/readyz to notice',
    );
    expect(broken.body).toMatchObject({ ready: false, checks: { database: true, auditIntegrity: false } });
    expect((broken.body.reasons as string[])[0]).toBe(
      `the audit chain does not verify: record ${seq} was altered: its content does not match its hash`,
    );
    expect(await metric('fleetpass_audit_integrity')).toBe(0);

    edit(original.replace(/'/g, "''"));
    await waitUntil(async () => (await get('/readyz')).status === 200, 30_000, '/readyz to be ready again');
    expect(await metric('fleetpass_audit_integrity')).toBe(1);
  });
});

describe('protecting the listener', () => {
  it('asks for the bearer token on every path when metrics.bearerTokenFile is set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-metrics-token-'));
    writeFileSync(join(dir, 'metrics.token'), 'scrape-secret-123\n', { mode: 0o600 });
    try {
      tc = await startTestController({ config: { metrics: { bearerTokenFile: join(dir, 'metrics.token') } } });
      for (const path of ['/metrics', '/readyz', '/healthz']) {
        expect(await get(path)).toMatchObject({ status: 401, body: { code: 'FP_UNAUTHENTICATED' } });
        expect((await get(path, { authorization: 'Bearer wrong' })).status).toBe(401);
      }
      const ok = await fetch(`${tc.ctx.integrations.metricsUrl()}/metrics`, {
        headers: { authorization: 'Bearer scrape-secret-123' },
      });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('fleetpass_nodes');
    } finally {
      removeRoot(dir);
    }
  });

  it('serves HTTPS to client certificates from the controller CA only (metrics.clientCaFile: controller-ca)', async () => {
    tc = await startTestController({ config: { metrics: { clientCaFile: 'controller-ca' } } });
    const url = new URL(`${tc.ctx.integrations.metricsUrl()}/healthz`);
    expect(url.protocol).toBe('https:');
    const client = await issueClientCertificate(tc.ctx.pki.ca, { commonName: 'prometheus' });
    const call = (cert?: { certPem: string; keyPem: string }) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          url,
          { ca: tc!.ctx.pki.ca.certPem, cert: cert?.certPem, key: cert?.keyPem, agent: false },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    expect(await call(client)).toBe(200);
    await expect(call()).rejects.toThrow(/certificate|alert|socket hang up|ECONNRESET/i);
  });
});
