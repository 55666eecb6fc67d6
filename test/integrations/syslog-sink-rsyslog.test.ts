/**
 * The syslog sink against a REAL rsyslogd over TLS on loopback (imtcp, ossl driver, RFC 5425 framing),
 * pinned to a test CA made with the project's PKI helpers. A wave of audited changes runs while rsyslog
 * is stopped mid-wave, the controller is restarted while it is down, and rsyslog comes back: every
 * record arrives, first arrivals are in seq order with no gap, every duplicate is a resend of a record
 * already seen with the same hash, the resend after the restart starts after the durable cursor, and the
 * wave itself was never held up by the dead collector.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordAudited } from '../../controller/audit';
import { hashAuditRecord } from '../../controller/audit/canonical';
import {
  freePort,
  removeRoot,
  startTestController,
  verifyChain,
  type TestController,
} from '../helpers/controller-harness';
import { waitUntil } from '../helpers/wait-until';
import { createRsyslogServer, type RsyslogServer } from './support/rsyslog-server';
import { writeTestCa } from './support/test-ca';

let dir: string;
let rsyslog: RsyslogServer;
let tc: TestController | undefined;

interface Received {
  seq: number;
  hash: string;
  event: Record<string, unknown>;
}

function parse(line: string): Received {
  const sd = /\[fleetpass@32473 seq="(\d+)" hash="([0-9a-f]{64})"/.exec(line);
  if (!sd) throw new Error(`not a fleetpass message: ${line.slice(0, 200)}`);
  const event = JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>;
  return { seq: Number(sd[1]), hash: sd[2], event };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fp-rsyslog-'));
  rsyslog = createRsyslogServer(dir, await freePort(), await writeTestCa(dir, 'rsyslog'));
});

afterAll(async () => {
  await tc?.stop().catch(() => undefined);
  await rsyslog?.stop();
  if (tc) removeRoot(tc.root);
  removeRoot(dir);
});

async function startController(root?: string): Promise<TestController> {
  return startTestController({
    root,
    config: {
      audit: {
        sinks: [
          {
            name: 'rsyslog',
            type: 'syslog',
            address: `127.0.0.1:${rsyslog.port}`,
            caFile: join(dir, 'rsyslog-ca.crt'),
            confirmAfterMs: 200,
            maxRetrySeconds: 0.5,
            batchSize: 50,
          },
        ],
      },
    },
  });
}

/** One audited change per call, through the controller's own audit log. */
function change(c: TestController, i: number): void {
  recordAudited(c.ctx.store.db, () =>
    c.ctx.audit.append({ actor: 'alice', action: 'test.wave', reason: `INC-${i}`, details: { i } }),
  );
}

async function wave(c: TestController, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    change(c, i);
    if (i % 10 === 0) await new Promise((r) => setImmediate(r));
  }
}

describe('audit sink: syslog over TLS to a real rsyslog', () => {
  it('delivers every record in order across a collector outage and a controller restart', async () => {
    await rsyslog.start();
    tc = await startController();
    const head = () => tc!.ctx.audit.head().seq;
    await wave(tc, 0, 100);
    await waitUntil(() => rsyslog.runs()[0].length >= 60, 30_000, 'rsyslog to receive the first records');

    // Mid-wave: the collector stops. Changes go on (the sink is not required) and are not held up.
    await rsyslog.stop();
    await wave(tc, 100, 100);
    tc.ctx.store.nodes.ensure('syslog-node', new Date());
    expect((await tc.request({ nodeIds: ['syslog-node'], reason: 'during the outage' })).request.state).toBe(
      'approved',
    );
    await waitUntil(() => tc!.ctx.integrations.sinks()[0].failures > 0, 30_000, 'the sink to notice the outage');
    expect(tc.ctx.integrations.sinks()[0].lag.records).toBeGreaterThan(0);

    // The controller restarts while the collector is still down: the cursor in the data file survives.
    const root = tc.root;
    await tc.stop();
    tc = await startController(root);
    const cursorAtRestart = tc.ctx.integrations.sinks()[0].deliveredSeq;
    // Confirmed records only: what rsyslog took in the confirm window before it stopped is not among them.
    expect(cursorAtRestart).toBeGreaterThan(0);
    expect(cursorAtRestart).toBeLessThan(head());
    await wave(tc, 200, 50);

    await rsyslog.start();
    await wave(tc, 250, 50);
    const last = head();
    await waitUntil(
      () => tc!.ctx.integrations.sinks()[0].lag.records === 0 && tc!.ctx.integrations.sinks()[0].deliveredSeq === last,
      60_000,
      'the sink to catch up',
    );
    await waitUntil(
      () =>
        rsyslog
          .runs()[1]
          .map(parse)
          .some((r) => r.seq === last),
      30_000,
      'rsyslog to write the last record',
    );

    const [first, second] = rsyslog.runs().map((run) => run.map(parse));
    const all = [...first, ...second];
    const bySeq = new Map<number, Received>();
    let max = 0;
    for (const r of all) {
      const seen = bySeq.get(r.seq);
      if (seen) {
        // A duplicate: a resend of a record already delivered, identical, marked by the same seq.
        expect(r.seq).toBeLessThanOrEqual(max);
        expect(r.hash).toBe(seen.hash);
        continue;
      }
      expect(r.seq).toBe(max + 1); // first arrivals in order, no gap
      max = r.seq;
      bySeq.set(r.seq, r);
    }
    expect(max).toBe(last);
    // The second collector run starts after the durable cursor: nothing the collector confirmed came again.
    expect(Math.min(...second.map((r) => r.seq))).toBe(cursorAtRestart + 1);
    // Each event carries the record as hashed: the receiver can re-walk the chain.
    for (let seq = 1; seq <= last; seq++) {
      const e = bySeq.get(seq)!.event as {
        seq: number;
        time: string;
        hash: string;
        prevHash: string;
        actor: string;
        action: string;
        nodeId: string;
        account: string;
        operationId: string;
        requestId: string;
        outcome: string;
        reason: string;
        detailsJson: string;
      };
      expect(hashAuditRecord(e)).toBe(e.hash);
      if (seq > 1) expect(e.prevHash).toBe(bySeq.get(seq - 1)!.hash);
    }
    expect(verifyChain(tc.ctx)).toMatchObject({ ok: true });
  });

  it('sends nothing to a collector whose certificate is not from the pinned CA', async () => {
    if (tc) {
      await tc.stop();
      removeRoot(tc.root);
    }
    const other = await writeTestCa(dir, 'not-rsyslog');
    const before = rsyslog.runs().flat().length;
    tc = await startTestController({
      config: {
        audit: {
          sinks: [
            {
              name: 'wrong-ca',
              type: 'syslog',
              address: `127.0.0.1:${rsyslog.port}`,
              caFile: other.caFile,
              maxRetrySeconds: 0.2,
            },
          ],
        },
      },
    });
    await waitUntil(() => tc!.ctx.integrations.sinks()[0].failures >= 2, 30_000, 'two refused connections');
    expect(tc.ctx.integrations.sinks()[0]).toMatchObject({
      deliveredSeq: 0,
      lastError: expect.stringMatching(/certificate/i),
    });
    expect(rsyslog.runs().flat().length).toBe(before);
  });
});
