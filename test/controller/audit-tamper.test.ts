/**
 * Tampering with the audit log in a real controller's data file, the way someone with file access
 * would: the sqlite3 command-line tool, dropping the append-only triggers first. `fleetpass-controller
 * verify-audit` (and the service's verify) must name the first broken record; cutting off the tail is
 * caught through the checkpoint file even when the database's own checkpoint rows are deleted too.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  removeRoot,
  spawnControllerProcess,
  startTestController,
  type TestController,
} from '../helpers/controller-harness';
import { connectScriptedAgent } from './support/scripted-agent';
import { changeRequestView } from '../../controller/store';
import { verifyChain } from '../helpers/controller-harness';

const run = promisify(execFile);
let tc: TestController;
let checkpointSeq: number;

/** A stopped controller's state folder with a realistic log: connections, requests, results, a checkpoint. */
beforeAll(async () => {
  tc = await startTestController();
  const agents = [];
  for (const id of ['t-1', 't-2'])
    agents.push(connectScriptedAgent({ address: tc.address, creds: await tc.nodeCredentials(id) }));
  for (const a of agents) await a.waitFor((m) => m.message?.$case === 'welcome' || undefined);
  const first = await tc.request({ nodeIds: ['t-1', 't-2'] });
  await waitDone(first.request.id);
  checkpointSeq = ((await tc.controller.runJob('checkpoint')) as { seq: number }).seq;
  const second = await tc.request({ nodeIds: ['t-1'] });
  await waitDone(second.request.id);
  for (const a of agents) a.close();
  await tc.stop();
});
afterAll(() => removeRoot(tc.root));

async function waitDone(id: string): Promise<void> {
  const end = Date.now() + 5000;
  while (changeRequestView(tc.ctx.store, id).request.state !== 'done') {
    if (Date.now() > end) throw new Error('request did not finish');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A copy of the state folder to tamper with. */
function copyState(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fp-tamper-'));
  cpSync(tc.stateDir, join(dir, '.fleetpass'), { recursive: true });
  return dir;
}

async function sqlite(dir: string, sql: string): Promise<{ code: number; stderr: string }> {
  try {
    await run('sqlite3', [join(dir, '.fleetpass', 'fleetpass.db'), sql]);
    return { code: 0, stderr: '' };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

async function verifyCli(
  dir: string,
): Promise<{ code: number; result: { ok: boolean; brokenAt: number; problem: string; total: number } }> {
  const p = spawnControllerProcess(dir, ['verify-audit', '--json']);
  const { code } = await p.exited();
  return { code: code ?? -1, result: JSON.parse(p.stdout()) };
}

const DROP = 'DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;';

describe('audit tampering', () => {
  it('verifies the untouched log, and the triggers refuse edits through the sqlite3 tool', async () => {
    const dir = copyState();
    const clean = await verifyCli(dir);
    expect(clean).toMatchObject({ code: 0, result: { ok: true, brokenAt: 0 } });
    expect(clean.result.total).toBeGreaterThan(checkpointSeq + 3);
    const refused = await sqlite(dir, "UPDATE audit_log SET outcome = 'succeeded' WHERE seq = 3");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('audit_log is append-only');
    expect((await sqlite(dir, 'DELETE FROM audit_log WHERE seq = 3')).stderr).toContain('append-only');
    expect((await verifyCli(dir)).result.ok).toBe(true);
    removeRoot(dir);
  });

  it('names an edited record', async () => {
    const dir = copyState();
    expect((await sqlite(dir, `${DROP} UPDATE audit_log SET actor = 'mallory' WHERE seq = 5;`)).code).toBe(0);
    const { code, result } = await verifyCli(dir);
    expect(code).toBe(1);
    expect(result).toMatchObject({ ok: false, brokenAt: 5, problem: expect.stringContaining('record 5 was altered') });
    removeRoot(dir);
  });

  it('names a deleted record', async () => {
    const dir = copyState();
    await sqlite(dir, `${DROP} DELETE FROM audit_log WHERE seq = 4;`);
    expect((await verifyCli(dir)).result).toMatchObject({
      ok: false,
      brokenAt: 4,
      problem: expect.stringContaining('record 4 is missing'),
    });
    removeRoot(dir);
  });

  it('names reordered records', async () => {
    const dir = copyState();
    await sqlite(
      dir,
      `${DROP} UPDATE audit_log SET seq = -1 WHERE seq = 6; UPDATE audit_log SET seq = 6 WHERE seq = 7; UPDATE audit_log SET seq = 7 WHERE seq = -1;`,
    );
    expect((await verifyCli(dir)).result).toMatchObject({ ok: false, brokenAt: 6 });
    removeRoot(dir);
  });

  it('catches a cut-off tail through the checkpoint file', async () => {
    const dir = copyState();
    const keep = checkpointSeq - 2;
    await sqlite(
      dir,
      `${DROP} DELETE FROM audit_log WHERE seq > ${keep}; DROP TRIGGER audit_checkpoints_no_delete; DELETE FROM audit_checkpoints;` +
        ' DROP TRIGGER audit_signed_checkpoints_no_delete; DELETE FROM audit_signed_checkpoints;',
    );
    const { code, result } = await verifyCli(dir);
    expect(code).toBe(1);
    expect(result).toMatchObject({
      ok: false,
      total: keep,
      brokenAt: keep + 1,
      problem: expect.stringMatching(
        /the signed checkpoint taken at .* \(.*audit-checkpoints\.log line \d+\) covered \d+ records; the log was truncated/,
      ),
    });
    // A controller started on the cut log refuses every change and writes nothing: no seq is handed out twice.
    const again = await startTestController({ root: dir, config: { stateDir: join(dir, '.fleetpass') } });
    try {
      expect(verifyChain(again.ctx)).toMatchObject({ ok: false, brokenAt: keep + 1 });
      expect(again.ctx.trail.integrity()).toMatchObject({ ok: false, brokenAt: keep + 1 });
      await expect(again.request({ nodeIds: ['t-1'] })).rejects.toMatchObject({ code: 'FP_AUDIT_INTEGRITY' });
      expect(again.ctx.audit.head().seq).toBe(keep);
    } finally {
      await again.stop();
      removeRoot(dir);
    }
  });
});
