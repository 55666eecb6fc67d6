/**
 * The escrow master key: 32 random bytes, base64, from FLEETPASS_ESCROW_KEY or a key file (mode 0600,
 * created at first start when the database holds no escrow yet). The database keeps a check value
 * (HMAC-SHA256 of a fixed text under the key), so a wrong key is recognised before any escrowed row is
 * read or written; `checkDatabaseKey` does it on the data file read-only, before the controller starts.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { sqliteNativeOptions } from '../store/sqlite-native';
import { FleetpassError } from '../../shared/errors';
import {
  createKeyFile as createSharedKeyFile,
  parseKey,
  readKeyFile as readSharedKeyFile,
} from '../../shared/key-file';

export const ESCROW_KEY_ENV = 'FLEETPASS_ESCROW_KEY';
const CHECK_TEXT = 'fleetpass escrow master key check v1';

export interface MasterKey {
  key: Buffer;
  /** A short public fingerprint of the key (audit records, status). */
  keyId: string;
  /** The file it came from, or the environment variable's name. */
  source: string;
}

/** What the database records about the key its escrow is sealed under. */
export interface KeyMeta {
  keyId: string;
  keyCheck: Buffer;
}

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('fleetpass-escrow-key-id').update(key).digest('hex').slice(0, 16);
}

/** The check value stored in escrow_meta. */
export function keyCheckOf(key: Buffer): Buffer {
  return createHmac('sha256', key).update(CHECK_TEXT).digest();
}

/** True when `key` is the one `meta` was made with (constant-time). */
export function keyMatches(meta: KeyMeta, key: Buffer): boolean {
  const check = keyCheckOf(key);
  return meta.keyCheck.length === check.length && timingSafeEqual(meta.keyCheck, check);
}

const KIND = { code: 'FP_ESCROW_KEY_INVALID', name: 'the escrow key' } as const;

/** Reads a key file; it must be readable by its owner only. */
export function readKeyFile(file: string): Buffer {
  return readSharedKeyFile(file, KIND);
}

/** Creates a key file with a new random key (0600, never over an existing file). */
export function createKeyFile(file: string): Buffer {
  return createSharedKeyFile(file, KIND)!;
}

export interface LoadMasterKeyOptions {
  keyFile: string;
  env: NodeJS.ProcessEnv;
  /** Create the key file when neither it nor the variable exists (only while no escrow is recorded). */
  mayCreate: boolean;
}

/** The key from the environment, the file, or a new file; FP_ESCROW_KEY_MISSING when none may be made. */
export function loadMasterKey(o: LoadMasterKeyOptions): MasterKey & { created: boolean } {
  const fromEnv = o.env[ESCROW_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    const key = parseKey(fromEnv, KIND, ESCROW_KEY_ENV);
    return { key, keyId: keyIdOf(key), source: ESCROW_KEY_ENV, created: false };
  }
  if (existsSync(o.keyFile)) {
    const key = readKeyFile(o.keyFile);
    return { key, keyId: keyIdOf(key), source: o.keyFile, created: false };
  }
  if (!o.mayCreate) {
    throw new FleetpassError(
      'FP_ESCROW_KEY_MISSING',
      `the escrow key ${o.keyFile} does not exist and ${ESCROW_KEY_ENV} is not set`,
    );
  }
  const key = createKeyFile(o.keyFile);
  return { key, keyId: keyIdOf(key), source: o.keyFile, created: true };
}

/**
 * Opens a data file for reading without creating anything beside it. A read-only SQLite connection to a
 * WAL database still creates -wal and -shm files, so a cleanly closed file (no WAL content) is read from a
 * private in-memory copy whose header says "rollback journal" (bytes 18-19); when the WAL holds data (a
 * crash, or a controller running) the sidecars exist already and a normal read-only connection reads it.
 */
function openForReading(file: string): Database.Database {
  const wal = `${file}-wal`;
  if (existsSync(wal) && statSync(wal).size > 0)
    return new Database(file, { readonly: true, fileMustExist: true, ...sqliteNativeOptions() });
  const bytes = readFileSync(file);
  if (bytes.length >= 100) {
    bytes[18] = 1;
    bytes[19] = 1;
  }
  return new Database(bytes, sqliteNativeOptions());
}

/** The key meta recorded in a data file, read without changing or adding a file; undefined when there is none. */
export function readKeyMeta(databaseFile: string): KeyMeta | undefined {
  if (!existsSync(databaseFile)) return undefined;
  const db = openForReading(databaseFile);
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'escrow_meta'").get();
    if (!table) return undefined;
    const row = db
      .prepare<[], { key_id: string; key_check: Buffer }>('SELECT key_id, key_check FROM escrow_meta WHERE id = 1')
      .get();
    return row ? { keyId: row.key_id, keyCheck: row.key_check } : undefined;
  } finally {
    db.close();
  }
}

/**
 * Checks the master key against the data file without writing anything: FP_ESCROW_KEY_MISSING or
 * FP_ESCROW_KEY_WRONG stop the controller before it touches the file. Undefined when the file records no
 * escrow yet: the plugin then loads (or creates) the key at start, once the data file has opened.
 */
export function checkDatabaseKey(o: {
  keyFile: string;
  env: NodeJS.ProcessEnv;
  databaseFile: string;
}): MasterKey | undefined {
  let meta: KeyMeta | undefined;
  try {
    meta = readKeyMeta(o.databaseFile);
  } catch (e) {
    throw new FleetpassError(
      'FP_DB_UNAVAILABLE',
      `cannot read the escrow key check from ${o.databaseFile}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (!meta) return undefined;
  let loaded: MasterKey;
  try {
    loaded = loadMasterKey({ keyFile: o.keyFile, env: o.env, mayCreate: false });
  } catch (e) {
    if (e instanceof FleetpassError && e.code === 'FP_ESCROW_KEY_MISSING') {
      throw new FleetpassError(
        'FP_ESCROW_KEY_MISSING',
        `the escrow key ${o.keyFile} does not exist and ${ESCROW_KEY_ENV} is not set, but ${o.databaseFile} holds passwords escrowed under key ${meta.keyId}; restore that key`,
      );
    }
    throw e;
  }
  if (!keyMatches(meta, loaded.key)) {
    throw new FleetpassError(
      'FP_ESCROW_KEY_WRONG',
      `the escrow key from ${loaded.source} (id ${loaded.keyId}) is not the key ${o.databaseFile} was sealed under (id ${meta.keyId}); nothing was changed`,
    );
  }
  return loaded;
}
