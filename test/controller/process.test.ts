/**
 * The controller as its built bundle: starts with no arguments on its embedded defaults, creates its
 * state (database, secrets key, CA) with owner-only modes, stops cleanly on SIGTERM, and refuses to start
 * on a bad cron expression or a database from a newer fleetpass, saying why.
 */
import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { verifyAudit } from '../../controller/audit';
import { LATEST_SCHEMA_VERSION } from '../../controller/store';
import { removeRoot, spawnControllerProcess } from '../helpers/controller-harness';

const roots: string[] = [];
function root(): string {
  const r = mkdtempSync(join(tmpdir(), 'fp-ctlproc-'));
  roots.push(r);
  return r;
}
afterAll(() => roots.forEach(removeRoot));

// Port 0 instead of 7443 so parallel test files cannot collide; every other setting is the embedded default.
const ANY_PORT = { FLEETPASS_AGENT_LISTEN: '127.0.0.1:0' };

describe('fleetpass-controller process', () => {
  it('starts with no arguments, keeps its state in ./.fleetpass, and stops cleanly on SIGTERM', async () => {
    const r = root();
    const p = spawnControllerProcess(r, [], ANY_PORT);
    const { address, caFingerprint } = await p.ready();
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(caFingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    const state = join(r, '.fleetpass');
    expect(p.stdout()).toContain(`state folder:    ${state}`);
    expect(p.stdout()).toContain('(embedded defaults)');
    for (const f of ['fleetpass.db', 'secrets.key', 'escrow.key', 'pki/ca.key', 'pki/server.key'])
      expect(statSync(join(state, f)).mode & 0o777).toBe(0o600);
    expect(statSync(state).mode & 0o777).toBe(0o700);
    p.kill('SIGTERM');
    expect(await p.exited()).toEqual({ code: 0, signal: null });
    const states = p
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"controller state"'))
      .map((l) => JSON.parse(l).to);
    expect(states).toEqual(['starting', 'running', 'stopping', 'stopped']);
    const db = new Database(join(state, 'fleetpass.db'), { readonly: true });
    try {
      // Password escrow (a standard plugin) records the master key it created at first start.
      expect(db.prepare('SELECT action FROM audit_log ORDER BY seq').pluck().all()).toEqual([
        'controller.started',
        'escrow.key.created',
        'controller.stopped',
        'audit.checkpoint',
      ]);
      expect(verifyAudit(db, { checkpointFile: join(state, 'audit-checkpoints.log') })).toMatchObject({
        ok: true,
        total: 4,
        checkpoints: 1,
      });
    } finally {
      db.close();
    }
  });

  it('refuses a bad cron expression at start, naming the key', async () => {
    const p = spawnControllerProcess(root(), [], { ...ANY_PORT, FLEETPASS_JOBS__BACKUP: '61 * * * *' });
    expect((await p.exited()).code).toBe(1);
    expect(p.stderr()).toMatch(
      /^FP_CONFIG_INVALID: invalid configuration:\n\s+FLEETPASS_JOBS__BACKUP: jobs\.backup: not a valid cron expression/,
    );
  });

  it('refuses a database written by a newer fleetpass and leaves it untouched', async () => {
    const r = root();
    mkdirSync(join(r, '.fleetpass'), { recursive: true });
    const file = join(r, '.fleetpass', 'fleetpass.db');
    const db = new Database(file);
    db.exec('CREATE TABLE future_things (x)');
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    db.close();
    const p = spawnControllerProcess(r, [], ANY_PORT);
    expect((await p.exited()).code).toBe(1);
    expect(p.stderr()).toContain('FP_DB_SCHEMA_TOO_NEW');
    expect(p.stderr()).toContain(
      `has schema version ${LATEST_SCHEMA_VERSION + 1}, but this fleetpass knows only up to version ${LATEST_SCHEMA_VERSION}`,
    );
    const after = new Database(file, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION + 1);
    expect(after.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'nodes'").pluck().get()).toBe(0);
    expect(after.pragma('journal_mode', { simple: true })).toBe('delete');
    after.close();
  });

  it('exits 2 on a usage error', async () => {
    const p = spawnControllerProcess(root(), ['--no-such-flag'], ANY_PORT);
    expect((await p.exited()).code).toBe(2);
    expect(p.stderr()).toContain("unknown option '--no-such-flag'");
  });
});
