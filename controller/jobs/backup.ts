/**
 * Job: a consistent online backup of the data file with SQLite's backup API (writers keep going while
 * it copies), written under a temporary name and renamed when complete. The file exists at mode 0600
 * before SQLite writes a byte into it (it holds sealed secrets and the audit log; SQLite would create it
 * under the process umask). Only the newest `keep` backups are kept.
 */
import { closeSync, fchmodSync, mkdirSync, openSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import type { Db } from '../store';

export interface BackupDeps {
  db: Db;
  dir: string;
  keep: number;
  log: Logger;
}

const NAME = /^fleetpass-\d{8}T\d{6}(\d{3})?Z\.db$/;

/** fleetpass-20260301T081500123Z.db: sorts by time as text. */
export function backupFileName(at: Date): string {
  return `fleetpass-${at.toISOString().replace(/[-:.]/g, '')}.db`;
}

/** Writes one backup and prunes old ones; returns the new file and the removed ones. */
export async function backupDatabase(deps: BackupDeps, clock: Clock): Promise<{ file: string; removed: string[] }> {
  mkdirSync(deps.dir, { recursive: true, mode: 0o700 });
  const file = join(deps.dir, backupFileName(clock.now()));
  const tmp = `${file}.partial`;
  const started = Date.now();
  try {
    // Created empty (SQLite takes a 0-byte file as an empty database) and private; its journal inherits the mode.
    rmSync(tmp, { force: true });
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      fchmodSync(fd, 0o600); // the open mode is filtered by the umask; this is not
    } finally {
      closeSync(fd);
    }
    await deps.db.backup(tmp);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  const backups = readdirSync(deps.dir)
    .filter((f) => NAME.test(f))
    .sort();
  const removed = backups.slice(0, Math.max(0, backups.length - deps.keep));
  for (const f of removed) rmSync(join(deps.dir, f), { force: true });
  deps.log.info({ file, ms: Date.now() - started, removed: removed.length }, 'database backup written');
  return { file, removed };
}
