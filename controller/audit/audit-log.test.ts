import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeClock } from '../../shared/clock';
import { openDatabase, type Db } from '../store/database';
import { GENESIS_HASH, createAuditLog, recordAudited, verifyAudit, writeCheckpoint } from '.';

describe('audit log', () => {
  let dir: string;
  let db: Db;
  let clock = fakeClock('2026-03-01T08:00:00Z');

  beforeEach(() => {
    clock = fakeClock('2026-03-01T08:00:00Z');
    dir = mkdtempSync(join(tmpdir(), 'fp-audit-'));
    db = openDatabase(join(dir, 'a.db'));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function fill(n: number) {
    const audit = createAuditLog(db, clock);
    recordAudited(db, () => {
      for (let i = 0; i < n; i++) {
        clock.advance(1000);
        audit.append({
          actor: `op${i % 3}`,
          action: 'operation.requested',
          nodeId: `n${i}`,
          account: 'root',
          outcome: 'ok',
          details: { i },
        });
      }
    });
    return audit;
  }

  /** A raw connection that drops the append-only triggers, as an attacker with file access would. */
  function tamper(sql: string) {
    db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
    db.exec(sql);
  }

  it('chains records from the genesis hash and verifies', () => {
    const audit = fill(5);
    const first = audit.query({ limit: 1 }).records[0];
    expect(first.seq).toBe(1);
    expect(first.prevHash).toBe(GENESIS_HASH);
    const all = audit.query().records;
    for (let i = 1; i < all.length; i++) expect(all[i].prevHash).toBe(all[i - 1].hash);
    expect(verifyAudit(db)).toMatchObject({
      ok: true,
      total: 5,
      verifiedThrough: 5,
      brokenAt: 0,
      headHash: all[4].hash,
    });
  });

  it('refuses UPDATE and DELETE through triggers', () => {
    fill(2);
    expect(() => db.prepare("UPDATE audit_log SET actor = 'x' WHERE seq = 1").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log WHERE seq = 2').run()).toThrow(/append-only/);
    expect(verifyAudit(db).ok).toBe(true);
  });

  it('never stores a secret-named detail', () => {
    const audit = createAuditLog(db, clock);
    const rec = recordAudited(db, () =>
      audit.append({
        actor: 'a',
        action: 'x',
        details: { newSecret: 'Hunter2-very-secret', nested: { password: 'p4ss-word-1' }, ok: 1 },
      }),
    );
    expect(rec.detailsJson).not.toContain('Hunter2');
    expect(rec.detailsJson).not.toContain('p4ss-word-1');
    expect(JSON.parse(rec.detailsJson)).toEqual({ newSecret: '[redacted]', nested: { password: '[redacted]' }, ok: 1 });
  });

  it('finds an edited record by number', () => {
    fill(10);
    tamper("UPDATE audit_log SET actor = 'mallory' WHERE seq = 7");
    expect(verifyAudit(db)).toMatchObject({
      ok: false,
      brokenAt: 7,
      verifiedThrough: 6,
      problem: expect.stringContaining('altered'),
    });
  });

  it('finds a deleted record by number', () => {
    fill(10);
    tamper('DELETE FROM audit_log WHERE seq = 4');
    expect(verifyAudit(db)).toMatchObject({ ok: false, brokenAt: 4, problem: expect.stringContaining('missing') });
  });

  it('finds reordered records', () => {
    fill(10);
    tamper(
      'UPDATE audit_log SET seq = 1000 WHERE seq = 5; UPDATE audit_log SET seq = 5 WHERE seq = 6; UPDATE audit_log SET seq = 6 WHERE seq = 1000;',
    );
    expect(verifyAudit(db)).toMatchObject({ ok: false, brokenAt: 5 });
  });

  it('finds a truncated tail through the checkpoint file, and a rewritten chain through the table', () => {
    const audit = fill(6);
    const file = join(dir, 'audit-checkpoints.log');
    const cp = writeCheckpoint(db, audit, file);
    expect(cp.seq).toBe(7);
    expect(JSON.parse(readFileSync(file, 'utf8').trim())).toMatchObject({ seq: 7, hash: cp.hash });
    fill(3);
    expect(verifyAudit(db, { checkpointFile: file })).toMatchObject({ ok: true, total: 10, checkpoints: 1 });
    // Cutting the tail back to record 5 leaves a chain that is internally consistent...
    tamper('DELETE FROM audit_log WHERE seq > 5');
    expect(verifyAudit(db)).toMatchObject({ brokenAt: 6 }); // the table still remembers the checkpoint
    db.exec('DROP TRIGGER audit_checkpoints_no_delete; DELETE FROM audit_checkpoints;');
    expect(verifyAudit(db).ok).toBe(true); // ...so without any anchor it would pass
    expect(verifyAudit(db, { checkpointFile: file })).toMatchObject({
      ok: false,
      brokenAt: 6,
      problem: expect.stringContaining('truncated'),
    });
  });

  // Its speed is a benchmark (bench/, as a ratio to a raw hashing scan), not a timed test.
  it('verifies a log of 100k records', () => {
    fill(100_000);
    expect(verifyAudit(db)).toMatchObject({ ok: true, total: 100_000 });
  });

  it('pages forwards and backwards with filters', () => {
    const audit = fill(25);
    const p1 = audit.query({ filter: { actor: 'op1' }, limit: 5 });
    expect(p1.records.map((r) => r.seq)).toEqual([2, 5, 8, 11, 14]);
    const p2 = audit.query({ filter: { actor: 'op1' }, limit: 5, afterSeq: p1.nextCursor });
    expect(p2.records.map((r) => r.seq)).toEqual([17, 20, 23]);
    expect(p2.nextCursor).toBe(0);
    const d = audit.query({ descending: true, limit: 3, filter: { action: 'operation.*' } });
    expect(d.records.map((r) => r.seq)).toEqual([25, 24, 23]);
    expect(audit.query({ descending: true, limit: 3, beforeSeq: d.nextCursor }).records.map((r) => r.seq)).toEqual([
      22, 21, 20,
    ]);
    expect(
      audit
        .query({ filter: { since: new Date('2026-03-01T08:00:03Z'), until: new Date('2026-03-01T08:00:05Z') } })
        .records.map((r) => r.seq),
    ).toEqual([3, 4]);
  });
});
