/**
 * The scheduled jobs as plain functions against a real controller: refresh requests reach connected
 * nodes, silent nodes become stale (and their dead stream is closed), backups are consistent copies that
 * verify and are pruned to `keep`, checkpoints anchor the chain; and the cron wiring runs a job on time.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fakeClock } from '../../shared/clock';
import { verifyAudit } from '../../controller/audit';
import { scheduleJobs } from '../../controller/jobs/schedule';
import { captureLogs, removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { connectScriptedAgent, type ScriptedAgent } from './support/scripted-agent';
import { storeReads } from '../helpers/store-reads';

let tc: TestController | undefined;
const agents: ScriptedAgent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) a.close();
  if (tc) {
    await tc.stop();
    removeRoot(tc.root);
    tc = undefined;
  }
});

async function connect(t: TestController, id: string): Promise<ScriptedAgent> {
  const a = connectScriptedAgent({ address: t.address, creds: await t.nodeCredentials(id) });
  agents.push(a);
  await a.waitFor((m) => m.message?.$case === 'welcome' || undefined);
  return a;
}

describe('jobs', () => {
  it('refresh asks every connected node to report', async () => {
    tc = await startTestController();
    const a = await connect(tc, 'j-1');
    const b = await connect(tc, 'j-2');
    expect(await tc.controller.runJob('refresh')).toBe(2);
    for (const x of [a, b]) {
      const r = await x.waitFor((m) => (m.message?.$case === 'refresh' ? m.message.refresh : undefined));
      expect(r.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.accounts).toEqual([]);
    }
  });

  it('stale marks silent nodes and closes their streams; a heartbeat keeps a node fresh', async () => {
    const clock = fakeClock(new Date());
    tc = await startTestController({ clock, config: { staleAfterSeconds: 120 } });
    const quiet = await connect(tc, 'j-quiet');
    const chatty = await connect(tc, 'j-chatty');
    clock.advance(100_000);
    chatty.send({ message: { $case: 'heartbeat', heartbeat: { sent: clock.now(), busy: true } } });
    await new Promise((r) => setTimeout(r, 100));
    clock.advance(30_000);
    expect(await tc.controller.runJob('stale')).toEqual(['j-quiet']);
    await quiet.ended();
    const service = storeReads(tc.ctx);
    const end = Date.now() + 3000;
    while (service.getNode('j-quiet')?.online && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(service.getNode('j-quiet')).toMatchObject({ stale: true, online: false });
    expect(service.getNode('j-chatty')).toMatchObject({ stale: false, online: true, busy: true });
    expect(await tc.controller.runJob('stale')).toEqual([]);
  });

  it('backup writes consistent copies that verify, mode 0600, and keeps only the newest', async () => {
    const clock = fakeClock(new Date('2026-04-01T03:17:00Z'));
    tc = await startTestController({ clock, config: { backup: { keep: 2 } } });
    await connect(tc, 'j-b');
    const files: string[] = [];
    for (let i = 0; i < 3; i++) {
      await tc.request({ nodeIds: ['j-b'] });
      clock.advance(86_400_000);
      files.push(((await tc.controller.runJob('backup')) as { file: string }).file);
    }
    const dir = join(tc.stateDir, 'backups');
    expect(readdirSync(dir).sort()).toEqual(files.slice(1).map((f) => f.slice(dir.length + 1)));
    expect(files[2]).toMatch(/fleetpass-20260404T031700000Z\.db$/);
    expect(statSync(files[2]).mode & 0o777).toBe(0o600);
    const copy = new Database(files[2], { readonly: true });
    try {
      expect(copy.prepare('SELECT count(*) FROM change_requests').pluck().get()).toBe(3);
      expect(verifyAudit(copy)).toMatchObject({ ok: true });
    } finally {
      copy.close();
    }
  });

  it('checkpoint appends the chain head to the checkpoint file', async () => {
    tc = await startTestController();
    const cp = (await tc.controller.runJob('checkpoint')) as { seq: number; hash: string };
    const lines = readFileSync(join(tc.stateDir, 'audit-checkpoints.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // The file also takes the signed checkpoints (lines with a note), one of which may follow the first write
    // at any moment: the chain-head lines are the ones with a seq.
    expect(lines.filter((l) => 'seq' in l)).toEqual([expect.objectContaining({ seq: cp.seq, hash: cp.hash })]);
    expect(tc.ctx.audit.query({ filter: { action: 'audit.checkpoint' } }).records[0]).toMatchObject({
      seq: cp.seq,
      hash: cp.hash,
    });
  });

  it('cron wiring runs a job on its schedule, logs the run, and waits for a run in progress on stop', async () => {
    const logs = captureLogs('info');
    let runs = 0;
    let release: () => void = () => undefined;
    const scheduler = scheduleJobs(
      [
        {
          name: 'tick',
          cron: '* * * * * *',
          run: () =>
            new Promise<number>((r) => {
              runs++;
              release = () => r(runs);
            }),
        },
      ],
      logs.logger,
    );
    const end = Date.now() + 3000;
    while (runs === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(1);
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(logs.lines().find((l) => l.msg === 'job run finished')).toMatchObject({ job: 'tick', result: 1 });
  });
});
