import Database from 'better-sqlite3';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeClock } from '../../shared/clock';
import { createLogger } from '../../shared/logger';
import type { Db } from '../store';
import { backupDatabase } from './backup';

const log = createLogger({ level: 'silent', name: 'backup-test' });

describe('backupDatabase', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fp-backup-'));
    db = new Database(join(dir, 'live.db'));
    db.exec("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('sealed')");
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has the file at mode 0600 before SQLite writes a byte into it, even under a permissive umask', async () => {
    const seen: number[] = [];
    // Looks at the destination the moment the copy starts: no window where it is group- or world-readable.
    const watching = new Proxy(db, {
      get(target, prop) {
        if (prop !== 'backup') return Reflect.get(target, prop);
        return (dest: string) => {
          seen.push(statSync(dest).mode & 0o777);
          return target.backup(dest);
        };
      },
    });
    const old = process.umask(0o000);
    try {
      const { file } = await backupDatabase(
        { db: watching, dir: join(dir, 'backups'), keep: 3, log },
        fakeClock(new Date('2026-03-01T08:15:00Z')),
      );
      expect(seen).toEqual([0o600]);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const copy = new Database(file, { readonly: true });
      expect(copy.prepare('SELECT v FROM t').pluck().get()).toBe('sealed');
      copy.close();
      expect(readdirSync(join(dir, 'backups'))).toEqual(['fleetpass-20260301T081500000Z.db']);
    } finally {
      process.umask(old);
    }
  });

  it('leaves no partial file when the copy fails', async () => {
    const failing = new Proxy(db, {
      get: (target, prop) =>
        prop === 'backup' ? () => Promise.reject(new Error('disk full')) : Reflect.get(target, prop),
    });
    await expect(
      backupDatabase(
        { db: failing, dir: join(dir, 'backups'), keep: 3, log },
        fakeClock(new Date('2026-03-01T08:15:00Z')),
      ),
    ).rejects.toThrow('disk full');
    expect(readdirSync(join(dir, 'backups'))).toEqual([]);
  });
});
