/**
 * Fail closed: the state folder lives on a tiny tmpfs that is then filled up, so the data file can no
 * longer take the audit record. A new request is refused with FP_AUDIT_WRITE_FAILED and nothing reaches
 * the node; a waiting operation is not delivered when its node connects. Once space is back, the
 * waiting operation goes out and the chain still verifies.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { connectScriptedAgent, type ScriptedAgent } from './support/scripted-agent';
import { storeReads } from '../helpers/store-reads';
import { waitUntil } from '../helpers/wait-until';

let mountPoint: string;
let tc: TestController | undefined;
const agents: ScriptedAgent[] = [];

beforeAll(() => {
  mountPoint = mkdtempSync(join(tmpdir(), 'fp-tinyfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m,mode=0700', 'tmpfs', mountPoint]);
});
afterAll(async () => {
  for (const a of agents) a.close();
  await tc?.stop().catch(() => undefined);
  execFileSync('umount', ['-l', mountPoint]);
  removeRoot(mountPoint);
});

/** Writes a filler file until the file system has no byte left. */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const size of [1 << 20, 1 << 16, 1 << 12, 1 << 8, 1]) {
      const chunk = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

async function pause(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

describe('audit store refuses writes', () => {
  it('sends nothing and tells the caller FP_AUDIT_WRITE_FAILED', async () => {
    tc = await startTestController({ root: mountPoint });
    const { store } = tc.ctx;
    const service = storeReads(tc.ctx);
    const online = connectScriptedAgent({ address: tc.address, creds: await tc.nodeCredentials('full-1') });
    agents.push(online);
    await online.waitFor((m) => m.message?.$case === 'welcome' || undefined);
    store.nodes.ensure('full-2', new Date());
    const waiting = await tc.request({ nodeIds: ['full-2'] });
    const waitingOp = waiting.operations[0].id;
    const creds2 = await tc.nodeCredentials('full-2');
    const auditBefore = service.queryAudit({ limit: 1000 }).records.length;
    const requestsBefore = service.listChangeRequests().length;

    const filler = join(mountPoint, 'filler');
    fillDisk(filler);
    const refused = await tc.request({ nodeIds: ['full-1'] }).then(
      () => undefined,
      (e: unknown) => e as Error & { code: string; cause?: { code?: string } },
    );
    expect(refused).toMatchObject({
      code: 'FP_AUDIT_WRITE_FAILED',
      message: expect.stringContaining('no operation was sent'),
    });
    expect(refused?.cause?.code).toMatch(/^SQLITE_(FULL|IOERR)/); // the disk, not something else
    expect(service.listChangeRequests()).toHaveLength(requestsBefore);

    // The offline node comes back while the disk is full: its hello cannot be recorded, so it gets nothing.
    const late = connectScriptedAgent({ address: tc.address, creds: creds2 });
    agents.push(late);
    const err = await late.ended();
    expect(err?.metadata?.get('fp-error-code')).toEqual(['FP_AUDIT_WRITE_FAILED']);
    await pause(200);
    expect(online.operations()).toEqual([]);
    expect(late.operations()).toEqual([]);
    expect(service.getOperation(waitingOp)?.state).toBe('approved');

    rmSync(filler);
    expect(service.queryAudit({ limit: 1000 }).records).toHaveLength(auditBefore);
    const back = connectScriptedAgent({ address: tc.address, creds: creds2 });
    agents.push(back);
    const op = await back.waitFor((m) => (m.message?.$case === 'operation' ? m.message.operation : undefined));
    expect(op.id).toBe(waitingOp);
    await waitUntil(() => service.getOperation(waitingOp)?.state === 'succeeded', 30_000, 'the waiting operation');
    expect(service.verifyAudit()).toMatchObject({ ok: true });
  });
});
