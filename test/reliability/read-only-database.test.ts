/**
 * The data file stops taking writes. Mid-run: the ext4 file system under it is shut down (every write
 * fails, as on a disk the kernel gave up on); a new request is refused with FP_AUDIT_WRITE_FAILED and a
 * log line naming the code, a node that says hello is refused the same way and gets nothing, and after
 * the file system is mounted again every record written before is there unchanged, the refused work left
 * no trace, the waiting operation is still waiting and is delivered. At start: a data file on a
 * read-only mount is refused with FP_DB_UNAVAILABLE saying so, fleetpass-controller exits 1 with one
 * line naming the code and the file, and the file is left byte for byte as it was.
 * (test/controller/audit-write-failure.test.ts covers a full disk.)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { verifyAudit } from '../../controller/audit';
import {
  captureLogs,
  removeRoot,
  spawnControllerProcess,
  startTestController,
  writeControllerConfig,
  type TestController,
} from '../helpers/controller-harness';
import { connectScriptedAgent, type ScriptedAgent } from '../controller/support/scripted-agent';
import { createExt4Volume, type Ext4Volume } from './support/ext4-volume';
import { waitUntil } from '../helpers/wait-until';
import { verifyChain } from '../helpers/controller-harness';
import { storeReads } from '../helpers/store-reads';

let volume: Ext4Volume | undefined;
let tc: TestController | undefined;
const agents: ScriptedAgent[] = [];

afterEach(async () => {
  for (const a of agents.splice(0)) a.close();
  await tc?.stop().catch(() => undefined);
  tc = undefined;
  volume?.destroy();
  volume = undefined;
});

describe('the data file stops taking writes mid-run', () => {
  it('refuses new work with FP_AUDIT_WRITE_FAILED, sends nothing, and loses nothing written before', async () => {
    volume = createExt4Volume();
    const logs = captureLogs('info');
    tc = await startTestController({ root: volume.mountPoint, log: logs.logger });
    const { store } = tc.ctx;
    const service = storeReads(tc.ctx);
    const online = connectScriptedAgent({ address: tc.address, creds: await tc.nodeCredentials('ro-online') });
    agents.push(online);
    await online.waitFor((m) => m.message?.$case === 'welcome' || undefined);
    store.nodes.ensure('ro-waiting', new Date());
    const waiting = (await tc.request({ nodeIds: ['ro-waiting'], reason: 'INC-before' })).operations[0].id;
    const waitingCreds = await tc.nodeCredentials('ro-waiting');
    const done = await tc.request({ nodeIds: ['ro-online'], reason: 'INC-done' });
    await waitUntil(
      () => service.getOperation(done.operations[0].id)?.state === 'succeeded',
      5000,
      'the first request to finish',
    );
    const database = tc.config.database;
    const before = service.queryAudit({ limit: 1000 }).records.map((r) => [r.seq, r.hash]);

    volume.stopWrites();
    const refused = await tc.request({ nodeIds: ['ro-online'], reason: 'INC-after' }).then(
      () => undefined,
      (e: unknown) => e as Error & { code: string; cause?: { code?: string } },
    );
    expect(refused).toMatchObject({
      code: 'FP_AUDIT_WRITE_FAILED',
      message: expect.stringContaining('no operation was sent'),
    });
    expect(refused?.cause?.code).toMatch(/^SQLITE_(IOERR|READONLY|CORRUPT)/);
    // A node that comes now cannot be recorded online, so it is refused and gets nothing.
    const late = connectScriptedAgent({ address: tc.address, creds: waitingCreds });
    agents.push(late);
    expect((await late.ended())?.metadata?.get('fp-error-code')).toEqual(['FP_AUDIT_WRITE_FAILED']);
    // The stream has ended: nothing can arrive on it any more, so this is final (no waiting needed).
    expect(late.operations()).toEqual([]);
    expect(online.operations().map((o) => o.id)).toEqual([done.operations[0].id]);
    const failures = logs.lines().filter((l) => JSON.stringify(l).includes('FP_AUDIT_WRITE_FAILED'));
    expect(failures.length).toBeGreaterThan(0);
    // The controller stops without hanging even though it cannot record the stop.
    for (const a of agents.splice(0)) a.close();
    await tc.stop();
    tc = undefined;

    await volume.remount();
    const db = new Database(database, { readonly: true });
    try {
      const after = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq').raw(true).all() as [number, string][];
      expect(after.slice(0, before.length)).toEqual(before);
      expect(db.prepare("SELECT count(*) FROM change_requests WHERE reason = 'INC-after'").pluck().get()).toBe(0);
      expect(db.prepare('SELECT state FROM operations WHERE id = ?').pluck().get(waiting)).toBe('approved');
      expect(verifyAudit(db)).toMatchObject({ ok: true });
    } finally {
      db.close();
    }
    tc = await startTestController({ root: volume.mountPoint });
    const back = connectScriptedAgent({ address: tc.address, creds: waitingCreds });
    agents.push(back);
    expect((await back.waitFor((m) => (m.message?.$case === 'operation' ? m.message.operation : undefined))).id).toBe(
      waiting,
    );
    await waitUntil(
      () => tc!.ctx.store.operations.getOperation(waiting)?.state === 'succeeded',
      5000,
      'the waiting operation',
    );
    expect(verifyChain(tc.ctx)).toMatchObject({ ok: true });
  });
});

describe('the data file is on a read-only mount at start', () => {
  it('fleetpass-controller exits 1 with FP_DB_UNAVAILABLE naming the file, and leaves it untouched', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fp-romount-'));
    const mnt = join(root, 'state-mount');
    execFileSync('mkdir', ['-p', mnt]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', mnt]);
    try {
      const first = await startTestController({ root: mnt });
      await first.request({ nodeIds: [], reason: 'x' }).catch(() => undefined);
      await first.stop();
      const file = first.config.database;
      const digest = () => createHash('sha256').update(readFileSync(file)).digest('hex');
      const sum = digest();
      execFileSync('mount', ['-o', 'remount,ro', mnt]);
      const refused = await startTestController({ root: mnt }).then(
        () => undefined,
        (e: unknown) => e as Error & { code: string },
      );
      expect(refused).toMatchObject({ code: 'FP_DB_UNAVAILABLE', message: expect.stringContaining(file) });
      expect(refused?.message).toMatch(/read-only file system/i);
      const config = writeControllerConfig(root, {
        stateDir: join(mnt, 'state'),
        agentListen: '127.0.0.1:0',
        adminListen: '127.0.0.1:0',
        webListen: '127.0.0.1:0',
      });
      const p = spawnControllerProcess(root, ['--config', config]);
      expect(await p.exited()).toEqual({ code: 1, signal: null });
      expect(p.stderr()).toMatch(/FP_DB_UNAVAILABLE/);
      expect(p.stderr()).toContain(file);
      expect(p.stderr().trim().split('\n')).toHaveLength(1);
      expect(digest()).toBe(sum);
    } finally {
      execFileSync('umount', ['-l', mnt]);
      removeRoot(root);
    }
  });
});
