/**
 * The Splunk HEC sink against a receiver that follows HEC's documented indexer-acknowledgement protocol
 * (support/hec-receiver.ts; Splunk itself cannot run here). A batch counts as delivered only when its
 * ack says so: acks that come at once, late, late after the batch was already sent again, or never (the
 * batch is sent again and the second ack completes it). A required sink that cannot get acks makes the
 * controller refuse changes with FP_AUDIT_SINK_BEHIND and /readyz say why, until acks come again.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordAudited } from '../../controller/audit';
import type { ControllerConfigInput } from '../../controller/config';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { waitUntil } from '../helpers/wait-until';
import { startHecReceiver, type HecReceiver } from './support/hec-receiver';
import { writeTestCa, type TestCaFiles } from './support/test-ca';

const TOKEN = '9d3f6a52-2c1e-4b8a-9f1d-3b0c7e5a4d21';
let dir: string;
let ca: TestCaFiles;
let hec: HecReceiver;
let tc: TestController | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fp-hec-'));
  ca = await writeTestCa(dir, 'splunk');
  writeFileSync(join(dir, 'hec.token'), `${TOKEN}\n`, { mode: 0o600 });
});

beforeEach(async () => {
  hec = await startHecReceiver(ca, TOKEN);
});

afterEach(async () => {
  await tc?.stop().catch(() => undefined);
  if (tc) removeRoot(tc.root);
  tc = undefined;
  await hec.close();
});

afterAll(() => removeRoot(dir));

function sink(overrides: Record<string, unknown> = {}): ControllerConfigInput {
  return {
    audit: {
      sinks: [
        {
          name: 'splunk',
          type: 'splunk-hec',
          url: hec.url,
          tokenFile: join(dir, 'hec.token'),
          caFile: ca.caFile,
          ackPollSeconds: 0.05,
          ackTimeoutSeconds: 30,
          maxRetrySeconds: 0.2,
          batchSize: 20,
          ...overrides,
        },
      ],
    },
  };
}

function changes(c: TestController, n: number, tag = 'x'): void {
  for (let i = 0; i < n; i++)
    recordAudited(c.ctx.store.db, () =>
      c.ctx.audit.append({ actor: 'alice', action: 'test.change', reason: `${tag}-${i}` }),
    );
}

const status = () => tc!.ctx.integrations.sinks()[0];
const caughtUp = () => status().deliveredSeq === tc!.ctx.audit.head().seq;
const seqsOf = (posts: HecReceiver['posts']) =>
  posts.flatMap((p) => p.events.map((e) => (e.event as { seq: number }).seq));

describe('audit sink: Splunk HEC with indexer acknowledgement', () => {
  it('delivers on the ack, with the channel header, the token and every record field', async () => {
    tc = await startTestController({ config: sink() });
    changes(tc, 45);
    await waitUntil(caughtUp, 30_000, 'the sink to catch up');
    const head = tc.ctx.audit.head().seq;
    expect(seqsOf(hec.posts)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(new Set(hec.posts.map((p) => p.channel)).size).toBe(1);
    const events = hec.posts.flatMap((p) => p.events);
    const first = events[0];
    expect(first).toMatchObject({
      source: 'fleetpass',
      sourcetype: 'fleetpass:audit',
      event: { seq: 1, action: 'controller.started', format: 'fleetpass-audit-v1' },
    });
    const e = events[1].event as Record<string, unknown>;
    expect(e).toMatchObject({
      seq: 2,
      prevHash: (first.event as { hash: string }).hash,
      actor: 'alice',
      action: 'test.change',
      reason: 'x-0',
    });
    expect(typeof e.hash).toBe('string');
    expect(status()).toMatchObject({ failures: 0, lag: { records: 0, seconds: 0 } });
  });

  it('ships an audit.checkpoint record with its checkpoint, from the table or from the signed-checkpoint hook', async () => {
    tc = await startTestController({ config: sink() });
    await tc.controller.runJob('checkpoint');
    await waitUntil(caughtUp, 30_000, 'the checkpoint to be delivered');
    const cp = hec.posts
      .flatMap((p) => p.events)
      .map((e) => e.event as { action: string; seq: number; hash: string; time: string; checkpoint?: unknown })
      .find((e) => e.action === 'audit.checkpoint')!;
    expect(cp.checkpoint).toEqual({ seq: cp.seq, hash: cp.hash, time: cp.time });
    await tc.stop();
    removeRoot(tc.root);

    hec.posts.length = 0;
    tc = await startTestController({
      config: sink(),
      deps: {
        integrations: {
          checkpoint: (r) =>
            r.action === 'audit.checkpoint' ? { seq: r.seq, signature: `ed25519:${r.hash.slice(0, 8)}` } : undefined,
        },
      },
    });
    await tc.controller.runJob('checkpoint');
    await waitUntil(caughtUp, 30_000, 'the signed checkpoint to be delivered');
    const events = hec.posts
      .flatMap((p) => p.events)
      .map((e) => e.event as { action: string; seq: number; hash: string; checkpoint?: unknown });
    const signed = events.find((e) => e.action === 'audit.checkpoint')!;
    expect(signed.checkpoint).toEqual({ seq: signed.seq, signature: `ed25519:${signed.hash.slice(0, 8)}` });
    expect(events.filter((e) => e.action !== 'audit.checkpoint').every((e) => e.checkpoint === undefined)).toBe(true);
  });

  it('waits for a late ack and counts the batch delivered only then, without sending it twice', async () => {
    let released = false;
    hec.fate = (_id, post) =>
      post.events.some((e) => (e.event as { reason: string }).reason === 'late-0') ? () => released : 'now';
    tc = await startTestController({ config: sink() });
    await waitUntil(caughtUp, 30_000, 'the start record to be delivered');
    changes(tc, 5, 'late');
    const late = await waitUntil(
      () => hec.posts.find((p) => p.events.some((e) => (e.event as { reason: string }).reason === 'late-0')),
      30_000,
      'the batch',
    );
    await waitUntil(() => hec.pollsOf(late.ackId) >= 3, 30_000, 'the sink to ask for its ack');
    // Asked about and not yet acknowledged: not delivered.
    expect(status().deliveredSeq).toBeLessThan((late.events[0].event as { seq: number }).seq);
    expect(status().lag.records).toBeGreaterThan(0);
    released = true;
    await waitUntil(caughtUp, 30_000, 'the late ack');
    const seqs = seqsOf(hec.posts);
    expect(seqs).toEqual([...new Set(seqs)]);
  });

  it('sends a batch again when its ack never comes, and the new ack completes it', async () => {
    hec.fate = (id) => (id === 0 ? 'never' : 'now');
    tc = await startTestController({ config: sink({ ackTimeoutSeconds: 0.5 }) });
    changes(tc, 3);
    await waitUntil(caughtUp, 30_000, 'the batch to be sent again and acknowledged');
    const [a, b] = hec.posts;
    expect(seqsOf([b])).toEqual(seqsOf([a]));
    expect([a.ackId, b.ackId]).toEqual([0, 1]);
    // Every record arrived; the only duplicates are the resent batch, same seq and hash.
    const seqs = seqsOf(hec.posts);
    expect(new Set(seqs).size).toBe(tc.ctx.audit.head().seq);
    expect(seqs.length - new Set(seqs).size).toBe(a.events.length);
  });

  it('accepts an ack that arrives late for a batch already sent again', async () => {
    // The first ack turns true only after the resend; the resent batch's ack never comes.
    hec.fate = (id) => (id === 0 ? { afterPolls: 15 } : id === 1 ? 'never' : 'now');
    tc = await startTestController({ config: sink({ ackTimeoutSeconds: 0.3 }) });
    await waitUntil(caughtUp, 30_000, 'the late first ack');
    expect(hec.posts.length).toBeGreaterThanOrEqual(2);
    expect(seqsOf([hec.posts[1]])).toEqual(seqsOf([hec.posts[0]]));
  });

  it('a required sink without acks refuses changes with FP_AUDIT_SINK_BEHIND and /readyz says why, until acks come', async () => {
    let acking = false;
    hec.fate = () => (acking ? 'now' : 'never');
    tc = await startTestController({ config: sink({ required: true, maxLagRecords: 5, ackTimeoutSeconds: 0.3 }) });
    const url = tc.ctx.integrations.metricsUrl()!;
    tc.ctx.store.nodes.ensure('hec-node', new Date());
    changes(tc, 5);
    expect(() => changes(tc!, 1)).toThrow(
      expect.objectContaining({
        code: 'FP_AUDIT_SINK_BEHIND',
        message: expect.stringContaining('required audit sink "splunk" is behind'),
      }),
    );
    await expect(tc.request({ nodeIds: ['hec-node'], reason: 'refused' })).rejects.toMatchObject({
      code: 'FP_AUDIT_SINK_BEHIND',
    });
    const before = tc.ctx.audit.head().seq;
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      ready: false,
      checks: { requiredSinks: false, database: true, auditIntegrity: true },
      reasons: [expect.stringContaining('"splunk" is behind')],
    });
    expect(tc.ctx.audit.head().seq).toBe(before); // the refused change left no record

    acking = true;
    await waitUntil(caughtUp, 30_000, 'the sink to catch up once acks come');
    expect(() => changes(tc!, 1, 'after')).not.toThrow();
    expect((await tc.request({ nodeIds: ['hec-node'], reason: 'accepted again' })).request.state).toBe('approved');
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });
});
