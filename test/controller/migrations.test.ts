/**
 * Schema migrations on real files: a fresh database and one left by an older fleetpass (only the first
 * migration applied, with data in it) both come up current under a real controller, keep their data and
 * audit chain, and work; each migration is one transaction, recorded in user_version.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../shared/clock';
import { Action } from '../../shared/gen/fleetpass/v1/common';
import { createAuditLog, recordAudited } from '../../controller/audit';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, openDatabase, schemaVersion } from '../../controller/store';
import { removeRoot, startTestController } from '../helpers/controller-harness';
import { connectScriptedAgent } from './support/scripted-agent';
import { storeReads } from '../helpers/store-reads';

describe('migrations', () => {
  it('has more than one migration, numbered from 1 without gaps', () => {
    expect(MIGRATIONS.length).toBeGreaterThan(1);
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('brings a fresh file to the latest version with every table', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-mig-'));
    const db = openDatabase(join(dir, 'f.db'));
    expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual(
      expect.arrayContaining([
        'nodes',
        'account_state',
        'account_state_history',
        'change_requests',
        'operations',
        'operation_transitions',
        'pending_secrets',
        'audit_log',
        'audit_checkpoints',
      ]),
    );
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    db.close();
    removeRoot(dir);
  });

  it('upgrades a database made by the first schema version, keeping its nodes and audit chain', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fp-mig-'));
    mkdirSync(join(root, 'state'), { recursive: true });
    const old = openDatabase(join(root, 'state', 'fleetpass.db'), { migrations: MIGRATIONS.slice(0, 1) });
    expect(schemaVersion(old)).toBe(1);
    expect(old.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'operations'").pluck().get()).toBe(0);
    // Raw SQL of that version: today's repositories expect columns a later migration adds.
    const addNode = old.prepare('INSERT INTO nodes (id, first_seen, labels_json) VALUES (?, ?, ?)');
    const audit = createAuditLog(old, systemClock);
    recordAudited(old, () => {
      addNode.run('old-node', new Date().toISOString(), JSON.stringify({ site: 'bldg4' }));
      audit.append({ actor: 'admin', action: 'node.enrolled', nodeId: 'old-node', outcome: 'ok' });
    });
    old.close();

    const tc = await startTestController({ root });
    try {
      const { store: s } = tc.ctx;
      const service = storeReads(tc.ctx);
      expect(schemaVersion(s.db)).toBe(LATEST_SCHEMA_VERSION);
      // Labels from before schema 6 cannot be told apart from a node's own: they are kept as reported, and select nothing.
      expect(service.getNode('old-node')).toMatchObject({
        labels: {},
        reportedLabels: { site: 'bldg4' },
        online: false,
      });
      expect(
        service
          .queryAudit()
          .records.map((r) => r.action)
          .slice(0, 2),
      ).toEqual(['node.enrolled', 'controller.started']);
      expect(service.verifyAudit().ok).toBe(true);
      const a = connectScriptedAgent({ address: tc.address, creds: await tc.nodeCredentials('old-node') });
      const { operations } = await tc.request({ nodeIds: ['old-node'], action: Action.ACTION_UNLOCK });
      await a.waitFor((m) => (m.message?.$case === 'operation' ? m.message.operation : undefined));
      expect(operations).toHaveLength(1);
      a.close();
    } finally {
      await tc.stop();
      removeRoot(root);
    }
  });
});
