/**
 * The generic JSON-over-HTTPS sink against a real HTTPS receiver on loopback: batches are JSON arrays of
 * events with the bearer token; an error answer (500) is not a delivery, so the batch comes again and
 * the receiver ends with every record, in order, duplicates only of the refused batch; a receiver whose
 * certificate does not chain to the pinned CA gets nothing. Also the sink config's checks.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordAudited } from '../../controller/audit';
import { loadControllerConfig } from '../../controller/config';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { waitUntil } from '../helpers/wait-until';
import { writeTestCa, type TestCaFiles } from './support/test-ca';

let dir: string;
let ca: TestCaFiles;
let other: TestCaFiles;
let server: Server;
let url: string;
const posts: Array<{ auth?: string; status: number; seqs: number[] }> = [];
let refuseNext = 0;
let tc: TestController | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fp-https-sink-'));
  ca = await writeTestCa(dir, 'collector');
  other = await writeTestCa(dir, 'other');
  writeFileSync(join(dir, 'token'), 'collector-token-1\n', { mode: 0o600 });
  server = createServer({ cert: ca.server.certPem, key: ca.server.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const events = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Array<{ seq: number }>;
      const status = refuseNext > 0 ? (refuseNext--, 500) : 204;
      posts.push({ auth: req.headers.authorization, status, seqs: events.map((e) => e.seq) });
      res.writeHead(status);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/fleetpass`;
});

afterEach(async () => {
  await tc?.stop().catch(() => undefined);
  if (tc) removeRoot(tc.root);
  tc = undefined;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  removeRoot(dir);
});

const sinkConfig = (caFile: string) => ({
  audit: {
    sinks: [
      {
        name: 'collector',
        type: 'https-json' as const,
        url,
        caFile,
        bearerTokenFile: join(dir, 'token'),
        maxRetrySeconds: 0.2,
        batchSize: 10,
      },
    ],
  },
});

describe('audit sink: JSON over HTTPS', () => {
  it('counts only a 2xx answer as delivered and sends a refused batch again', async () => {
    refuseNext = 1;
    posts.length = 0;
    tc = await startTestController({ config: sinkConfig(ca.caFile) });
    for (let i = 0; i < 25; i++)
      recordAudited(tc.ctx.store.db, () =>
        tc!.ctx.audit.append({ actor: 'alice', action: 'test.change', reason: `n-${i}` }),
      );
    const head = tc.ctx.audit.head().seq;
    await waitUntil(() => tc!.ctx.integrations.sinks()[0].deliveredSeq === head, 30_000, 'the sink to catch up');
    expect(posts[0].status).toBe(500);
    expect(posts[1].seqs.slice(0, posts[0].seqs.length)).toEqual(posts[0].seqs); // again from the same record
    expect(posts.every((p) => p.auth === 'Bearer collector-token-1')).toBe(true);
    expect(posts.filter((p) => p.status === 204).flatMap((p) => p.seqs)).toEqual(
      Array.from({ length: head }, (_, i) => i + 1),
    );
    expect(tc.ctx.integrations.sinks()[0]).toMatchObject({ failures: 1, lastError: '', lag: { records: 0 } });
  });

  it('sends nothing to a receiver whose certificate is not from the pinned CA', async () => {
    posts.length = 0;
    tc = await startTestController({ config: sinkConfig(other.caFile) });
    await waitUntil(() => tc!.ctx.integrations.sinks()[0].failures >= 2, 30_000, 'two failed deliveries');
    expect(posts).toEqual([]);
    expect(tc.ctx.integrations.sinks()[0]).toMatchObject({
      deliveredSeq: 0,
      lastError: expect.stringMatching(/certificate/i),
    });
  });
});

describe('audit.sinks config', () => {
  const load = (sinks: unknown[]) => () =>
    loadControllerConfig({ env: {}, flags: { stateDir: join(dir, 'cfg'), audit: { sinks } } });
  it('names every bad key in one FP_CONFIG_INVALID', () => {
    expect(load([{ name: 'a', type: 'https-json', url: 'http://clear.example.org/' }])).toThrow(
      /audit\.sinks\.0\.url.*https:\/\//s,
    );
    expect(load([{ name: 's', type: 'syslog', address: 'siem.example.org:6514' }])).toThrow(/audit\.sinks\.0\.caFile/);
    expect(load([{ name: 'Bad Name', type: 'splunk-hec', url: 'https://s:8088', tokenFile: '/t' }])).toThrow(
      /audit\.sinks\.0\.name/,
    );
    expect(load([{ name: 'x', type: 'kafka' }])).toThrow(/audit\.sinks\.0/);
    const twice = { name: 'same', type: 'https-json', url: 'https://c.example.org/' };
    expect(load([twice, twice])).toThrow(/"same" is used twice/);
    expect(load([{ ...twice, clientCertFile: '/c.pem' }])).toThrow(/clientCertFile and clientKeyFile go together/);
    let err: unknown;
    try {
      load([{ name: 's', type: 'syslog', address: 'nope' }])();
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({
      code: 'FP_CONFIG_INVALID',
      message: expect.stringMatching(/audit\.sinks\.0\.address.*host:port/s),
    });
  });

  it('refuses to start when a sink file cannot be read, naming it', async () => {
    await expect(
      startTestController({
        config: { audit: { sinks: [{ name: 'c', type: 'https-json', url, caFile: join(dir, 'missing-ca.pem') }] } },
      }),
    ).rejects.toMatchObject({ code: 'FP_TLS_MATERIAL', message: expect.stringContaining('missing-ca.pem') });
  });
});
