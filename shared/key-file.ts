/**
 * 32-byte symmetric keys kept as base64 in a file readable by its owner only: the controller's secrets key
 * (passwords in flight) and the escrow master key. One reader and one creator, so both keys get the same
 * checks: exclusive creation at 0600 with fsync, refusal of a file readable by group or others, and of
 * anything that is not exactly 32 bytes of base64.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { FleetpassError, type ErrorCode } from './errors';

export const KEY_BYTES = 32;

/** How errors about one kind of key read: its error code and its name in a sentence ("the escrow key"). */
export interface KeyKind {
  code: ErrorCode;
  name: string;
}

/** Decodes a base64 key; `where` names it in the error. */
export function parseKey(text: string, kind: KeyKind, where: string): Buffer {
  const t = text.trim();
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(t) ? Buffer.from(t, 'base64') : Buffer.alloc(0);
  if (key.length !== KEY_BYTES) throw new FleetpassError(kind.code, `${where} is not a ${KEY_BYTES}-byte base64 key`);
  return key;
}

/** Reads a key file; it must be readable by its owner only. */
export function readKeyFile(file: string, kind: KeyKind): Buffer {
  let text: string;
  try {
    const st = statSync(file);
    if ((st.mode & 0o077) !== 0) {
      throw new FleetpassError(
        kind.code,
        `${kind.name} ${file} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 on it`,
      );
    }
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof FleetpassError) throw e;
    throw new FleetpassError(kind.code, `cannot read ${kind.name} ${file}: ${(e as Error).message}`, { cause: e });
  }
  return parseKey(text, kind, `${kind.name} ${file}`);
}

/**
 * Creates a key file with a new random key (0600, never over an existing file). Returns undefined when the
 * file already exists and `existingOk`, so a caller can read it instead.
 */
export function createKeyFile(file: string, kind: KeyKind, existingOk = false): Buffer | undefined {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (e) {
    if (existingOk && (e as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw new FleetpassError(kind.code, `cannot create ${kind.name} ${file}: ${(e as Error).message}`, { cause: e });
  }
  const key = randomBytes(KEY_BYTES);
  try {
    writeSync(fd, `${key.toString('base64')}\n`);
    fsyncSync(fd);
    if ((fstatSync(fd).mode & 0o077) !== 0)
      throw new FleetpassError(
        kind.code,
        `the new ${kind.name.replace(/^the /, '')} ${file} is readable by others (umask)`,
      );
  } finally {
    closeSync(fd);
  }
  return key;
}
