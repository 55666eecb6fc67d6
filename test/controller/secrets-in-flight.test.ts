/**
 * A new password on its way to an offline node: it is sealed in the database, never written in plain
 * text to the data file, its WAL, the logs or the audit log, reaches the node intact over mutual TLS,
 * and its sealed copy is erased once the node has answered. A controller with the wrong key refuses to start.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Action } from '../../shared/gen/fleetpass/v1/common';
import { captureLogs, removeRoot, startTestController } from '../helpers/controller-harness';
import { connectScriptedAgent } from './support/scripted-agent';
import { storeReads } from '../helpers/store-reads';

const PASSWORD = 'Tq7!unique-Reset-Pass-93841';

function rawFilesContain(stateDir: string, needle: string): string[] {
  const hits: string[] = [];
  for (const f of ['fleetpass.db', 'fleetpass.db-wal', 'fleetpass.db-shm', 'audit-checkpoints.log']) {
    const p = join(stateDir, f);
    if (!existsSync(p)) continue;
    const bytes = readFileSync(p);
    if (bytes.includes(Buffer.from(needle, 'utf8')) || bytes.includes(Buffer.from(needle, 'utf16le'))) hits.push(f);
  }
  return hits;
}

describe('secrets in flight', () => {
  it('keeps a waiting password sealed, delivers it intact, then erases it', async () => {
    const logs = captureLogs('trace');
    const tc = await startTestController({ log: logs.logger });
    try {
      const { store } = tc.ctx;
      const service = storeReads(tc.ctx);
      store.nodes.ensure('nx-s', new Date());
      const { operations } = await tc.request({
        nodeIds: ['nx-s'],
        action: Action.ACTION_RESET_PASSWORD,
        account: 'root',
        targets: [{ nodeId: 'nx-s', secret: PASSWORD }],
        needsApproval: true,
      });
      const opId = operations[0].id;
      expect(store.db.prepare('SELECT count(*) FROM pending_secrets WHERE operation_id = ?').pluck().get(opId)).toBe(1);
      store.db.pragma('wal_checkpoint(PASSIVE)');
      expect(rawFilesContain(tc.stateDir, PASSWORD)).toEqual([]);

      const a = connectScriptedAgent({ address: tc.address, creds: await tc.nodeCredentials('nx-s') });
      await a.waitFor((m) => m.message?.$case === 'welcome' || undefined);
      expect(a.operations()).toEqual([]); // waiting for approval: nothing sent
      await service.approveChangeRequest(operations[0].requestId, { actor: 'bob', note: 'ok' });
      const op = await a.waitFor((m) => (m.message?.$case === 'operation' ? m.message.operation : undefined));
      expect(op).toMatchObject({
        id: opId,
        action: Action.ACTION_RESET_PASSWORD,
        newSecret: PASSWORD,
        approvedBy: 'bob',
      });
      const end = Date.now() + 5000;
      while (service.getOperation(opId)?.state !== 'succeeded' && Date.now() < end)
        await new Promise((r) => setTimeout(r, 10));
      expect(service.getOperation(opId)).toMatchObject({ state: 'succeeded', hasSecret: false });
      expect(store.db.prepare('SELECT count(*) FROM pending_secrets').pluck().get()).toBe(0);
      a.close();

      const requested = service.queryAudit({ filter: { action: 'operation.requested' } }).records[0];
      expect(JSON.parse(requested.detailsJson)).toMatchObject({ passwordSet: true });
      expect(rawFilesContain(tc.stateDir, PASSWORD)).toEqual([]);
      expect(logs.text()).not.toContain(PASSWORD);
      expect(logs.lines().some((l) => l.msg === 'operation dispatched' && l.operationId === opId)).toBe(true);
    } finally {
      await tc.stop();
    }
    expect(rawFilesContain(tc.stateDir, PASSWORD)).toEqual([]);
    removeRoot(tc.root);
  });

  it('will not start with another key while a password is sealed, and starts again with the right one', async () => {
    const tc = await startTestController();
    tc.ctx.store.nodes.ensure('nx-k', new Date());
    await tc.request({
      nodeIds: ['nx-k'],
      action: Action.ACTION_RESET_PASSWORD,
      targets: [{ nodeId: 'nx-k', secret: PASSWORD }],
    });
    await tc.stop();
    const keyFile = join(tc.stateDir, 'secrets.key');
    const good = readFileSync(keyFile);
    writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    await expect(startTestController({ root: tc.root })).rejects.toMatchObject({
      code: 'FP_KEY_INVALID',
      message: expect.stringContaining('sealed under another key'),
    });
    writeFileSync(keyFile, good, { mode: 0o600 });
    const again = await startTestController({ root: tc.root });
    expect(again.ctx.store.db.prepare('SELECT count(*) FROM pending_secrets').pluck().get()).toBe(1);
    await again.stop();
    removeRoot(tc.root);
  });
});
