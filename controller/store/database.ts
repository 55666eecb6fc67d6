/**
 * Opens the controller's one SQLite data file: WAL for concurrent reads, synchronous=FULL so a
 * committed transaction survives power loss, foreign keys on, deleted bytes overwritten, and every
 * pending migration applied in its own transaction. A schema newer than this code is refused.
 */
import { accessSync, chmodSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { FleetpassError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import { MIGRATIONS, type Migration } from './migrations';
import { sqliteNativeOptions } from './sqlite-native';

export type Db = Database.Database;

export interface OpenDatabaseOptions {
  log?: Logger;
  /** Tests pass a prefix of MIGRATIONS to build an older database. */
  migrations?: readonly Migration[];
  readonly?: boolean;
}

/** The schema version recorded in the file (0 for a new file). */
export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function assertNotTooNew(db: Db, migrations: readonly Migration[]): void {
  const version = schemaVersion(db);
  const latest = migrations.length ? migrations[migrations.length - 1].version : 0;
  if (version > latest) {
    throw new FleetpassError(
      'FP_DB_SCHEMA_TOO_NEW',
      `the database ${db.name} has schema version ${version}, but this fleetpass knows only up to version ${latest}; upgrade fleetpass or restore a backup made by this version`,
      { details: { file: db.name, version, supported: latest } },
    );
  }
}

/** Applies every migration newer than the file's version; throws FP_DB_SCHEMA_TOO_NEW for a newer file. */
export function migrate(
  db: Db,
  migrations: readonly Migration[] = MIGRATIONS,
  log?: Logger,
): { from: number; to: number } {
  assertNotTooNew(db, migrations);
  const from = schemaVersion(db);
  const latest = migrations.length ? migrations[migrations.length - 1].version : 0;
  for (const m of migrations) {
    if (m.version <= from) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    log?.info({ version: m.version, migration: m.name }, 'migration applied');
  }
  return { from, to: Math.max(from, latest) };
}

/**
 * SQLite opens a file it cannot write read-only without saying so, then fails later with "unable to open
 * database file" (it cannot make the -wal/-shm files): say what is wrong before that.
 */
function assertWritable(file: string): void {
  for (const path of existsSync(file) ? [dirname(file), file] : [dirname(file)]) {
    try {
      accessSync(path, constants.W_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EACCES';
      const why = code === 'EROFS' ? 'is on a read-only file system' : 'is not writable';
      throw new FleetpassError(
        'FP_DB_UNAVAILABLE',
        `cannot write the database ${file}: ${path} ${why} (${code}); the data file and its -wal and -shm files must be writable`,
        { cause: e, details: { file, code } },
      );
    }
  }
}

/** Opens (creating if needed) and migrates the data file; throws FP_DB_UNAVAILABLE when it cannot. */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Db {
  let db: Db;
  try {
    if (!options.readonly) {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      assertWritable(file);
    }
    db = new Database(file, {
      readonly: options.readonly ?? false,
      fileMustExist: options.readonly ?? false,
      ...sqliteNativeOptions(),
    });
  } catch (e) {
    if (e instanceof FleetpassError) throw e;
    throw new FleetpassError('FP_DB_UNAVAILABLE', `cannot open the database ${file}: ${(e as Error).message}`, {
      cause: e,
      details: { file },
    });
  }
  try {
    // Refuse a newer schema before changing anything in the file (journal mode is stored in it).
    assertNotTooNew(db, options.migrations ?? MIGRATIONS);
    if (!options.readonly) {
      // The file holds the audit log and sealed secrets: owner only. SQLite gives -wal/-shm the same mode.
      chmodSync(file, 0o600);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('secure_delete = ON');
    }
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      const { from, to } = migrate(db, options.migrations ?? MIGRATIONS, options.log);
      options.log?.info({ file, from, to }, 'database ready');
    }
    return db;
  } catch (e) {
    db.close();
    if (e instanceof FleetpassError) throw e;
    throw new FleetpassError('FP_DB_UNAVAILABLE', `cannot prepare the database ${file}: ${(e as Error).message}`, {
      cause: e,
      details: { file },
    });
  }
}
