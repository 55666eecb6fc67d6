/**
 * pam_faillock's per-user record files (<dir>/<user>): read them per the module's 64-byte layout, judge
 * them with the module's own rules (check_tally in Linux-PAM 1.4+), and clear them with the faillock
 * binary or, where it is missing, by truncating the file as `faillock --reset` does.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { FleetpassError } from '../../../shared/errors';
import type { FaillockSettings } from './pam-config';
import { findCommand, type CommandRunner } from './run-command';
import { fromEpochSeconds, type FailureAssessment } from './failures';

/** struct tally { char source[52]; u16 reserved; u16 status; u64 time; } in host byte order. */
export const FAILLOCK_RECORD_SIZE = 64;
/** read_tally stops after this many records. */
export const FAILLOCK_MAX_RECORDS = 1024;
export const TALLY_STATUS_VALID = 0x1;
export const TALLY_STATUS_RHOST = 0x2;
export const TALLY_STATUS_TTY = 0x4;

export interface FaillockRecord {
  readonly source: string;
  readonly status: number;
  /** Seconds since the epoch. */
  readonly time: number;
  readonly valid: boolean;
  readonly sourceType: 'rhost' | 'tty' | 'service';
}

/** Decodes a record file; a trailing partial record is ignored, as read_tally ignores it. */
export function parseFaillockRecords(buf: Buffer, order: 'LE' | 'BE' = endianness()): FaillockRecord[] {
  const count = Math.min(Math.floor(buf.length / FAILLOCK_RECORD_SIZE), FAILLOCK_MAX_RECORDS);
  const records: FaillockRecord[] = [];
  for (let i = 0; i < count; i++) {
    const r = buf.subarray(i * FAILLOCK_RECORD_SIZE, (i + 1) * FAILLOCK_RECORD_SIZE);
    const raw = r.subarray(0, 52);
    const nul = raw.indexOf(0);
    // source is not necessarily NUL-terminated: a 52-character host fills it.
    const source = raw.subarray(0, nul < 0 ? 52 : nul).toString('utf8');
    const status = order === 'LE' ? r.readUInt16LE(54) : r.readUInt16BE(54);
    const time = Number(order === 'LE' ? r.readBigUInt64LE(56) : r.readBigUInt64BE(56));
    const sourceType = status & TALLY_STATUS_RHOST ? 'rhost' : status & TALLY_STATUS_TTY ? 'tty' : 'service';
    records.push({ source, status, time, valid: (status & TALLY_STATUS_VALID) !== 0, sourceType });
  }
  return records;
}

/**
 * Judges records like check_tally: failures are valid records within fail_interval of the latest one;
 * locked when failures >= deny until latest + unlock_time has passed (strictly). Admins (root or
 * admin_group) are never locked without even_deny_root, and use root_unlock_time.
 */
export function assessFaillock(
  records: readonly FaillockRecord[],
  s: FaillockSettings,
  isAdmin: boolean,
  now: Date,
): FailureAssessment {
  const valid = records.filter((r) => r.valid);
  if (valid.length === 0) return { failures: 0, lastFailureSource: '', locked: false, lockPermanent: false };
  let latest = valid[0];
  for (const r of valid) if (r.time >= latest.time) latest = r;
  const failures = valid.filter((r) => latest.time - r.time < s.failInterval).length;
  const base = { failures, lastFailure: fromEpochSeconds(latest.time), lastFailureSource: latest.source };
  if (isAdmin && !s.evenDenyRoot) return { ...base, locked: false, lockPermanent: false };
  if (s.deny === 0 || failures < s.deny) return { ...base, locked: false, lockPermanent: false };
  const unlockTime = isAdmin ? s.rootUnlockTime : s.unlockTime;
  if (unlockTime === 0) return { ...base, locked: true, lockPermanent: true };
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const ends = latest.time + unlockTime;
  if (ends < nowSeconds) return { ...base, locked: false, lockPermanent: false };
  return { ...base, locked: true, lockEnds: fromEpochSeconds(ends), lockPermanent: false };
}

function ioError(action: string, path: string, e: unknown): FleetpassError {
  return new FleetpassError(
    'FP_FAILURE_COUNTER_IO',
    `cannot ${action} the pam_faillock file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
    {
      cause: e,
      details: { path },
    },
  );
}

/** The record file of `user` under `dir`. The name must already be validated (no "/" or ".."). */
export function faillockPath(dir: string, user: string): string {
  return join(dir, user);
}

/** Reads the records of `user`; none when the file does not exist. Never follows a symlink. */
export async function readFaillock(dir: string, user: string): Promise<FaillockRecord[]> {
  const path = faillockPath(dir, user);
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ioError('read', path, e);
  }
  try {
    const buf = Buffer.alloc(FAILLOCK_MAX_RECORDS * FAILLOCK_RECORD_SIZE);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, filled, buf.length - filled, filled);
      if (bytesRead === 0 || filled + bytesRead >= buf.length) {
        filled += bytesRead;
        break;
      }
      filled += bytesRead;
    }
    return parseFaillockRecords(buf.subarray(0, filled));
  } catch (e) {
    throw ioError('read', path, e);
  } finally {
    await fh.close();
  }
}

/**
 * Clears the records of `user`: `faillock --dir D --user U --reset` where the binary exists (it also
 * writes the audit record), else truncates the file in place. A missing file is already clear.
 */
export async function resetFaillock(
  dir: string,
  user: string,
  run: CommandRunner,
  useBinary = findCommand('faillock') !== undefined,
): Promise<void> {
  if (useBinary) {
    await run('faillock', ['--dir', dir, '--user', user, '--reset']);
    return;
  }
  const path = faillockPath(dir, user);
  let fh;
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw ioError('clear', path, e);
  }
  try {
    await fh.truncate(0);
  } catch (e) {
    throw ioError('clear', path, e);
  } finally {
    await fh.close();
  }
}
