/**
 * pam_tally2's /var/log/tallylog: a sparse file of 64-byte records indexed by uid. Read one record,
 * judge it with pam_tally2's rules, and reset it with the pam_tally2 binary where the node has it, else
 * by zeroing the record as `pam_tally2 --reset` does. A file that is not whole records, or a record that
 * pam_tally2 could not have written, is FP_TALLYLOG_CORRUPT and is never rewritten.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { FleetpassError } from '../../../shared/errors';
import type { Tally2Settings } from './pam-config';
import { findCommand, type CommandRunner } from './run-command';
import { fromEpochSeconds, NO_FAILURES, type FailureAssessment } from './failures';

/** struct tallylog { char fail_line[52]; u16 reserved; u16 fail_cnt; u64 fail_time; } in host byte order. */
export const TALLY_RECORD_SIZE = 64;
const FAIL_LINE_SIZE = 52;
/** Later than 9999-12-31: no clock wrote this. */
const MAX_PLAUSIBLE_TIME = 253_402_300_799;

export interface TallyRecord {
  /** RHOST, else TTY, else "unknown", of the last failure. */
  readonly failLine: string;
  readonly failCount: number;
  /** Seconds since the epoch; 0 when never failed. */
  readonly failTime: number;
}

function corrupt(path: string, why: string, details: Record<string, unknown> = {}): FleetpassError {
  return new FleetpassError(
    'FP_TALLYLOG_CORRUPT',
    `the pam_tally2 file ${path} is damaged (${why}); it was left untouched`,
    { details: { path, ...details } },
  );
}

/** Decodes one record, rejecting bytes pam_tally2 never writes (reserved set, unterminated or unpadded line, absurd time). */
export function decodeTallyRecord(
  buf: Buffer,
  path: string,
  uid: number,
  order: 'LE' | 'BE' = endianness(),
): TallyRecord {
  if (buf.length !== TALLY_RECORD_SIZE)
    throw corrupt(path, `the record for uid ${uid} is ${buf.length} bytes, not ${TALLY_RECORD_SIZE}`, { uid });
  const line = buf.subarray(0, FAIL_LINE_SIZE);
  const nul = line.indexOf(0);
  if (nul < 0) throw corrupt(path, `the record for uid ${uid} has no terminated fail_line`, { uid });
  // strncpy pads with NULs and the module forces the last byte to NUL: anything after the first NUL is garbage.
  if (line.subarray(nul).some((b) => b !== 0))
    throw corrupt(path, `the record for uid ${uid} has bytes after its fail_line`, { uid });
  if (line.subarray(0, nul).some((b) => b < 0x20 || b > 0x7e))
    throw corrupt(path, `the record for uid ${uid} has a non-text fail_line`, { uid });
  const reserved = order === 'LE' ? buf.readUInt16LE(52) : buf.readUInt16BE(52);
  if (reserved !== 0) throw corrupt(path, `the record for uid ${uid} has a non-zero reserved field`, { uid });
  const failCount = order === 'LE' ? buf.readUInt16LE(54) : buf.readUInt16BE(54);
  const failTime = order === 'LE' ? buf.readBigUInt64LE(56) : buf.readBigUInt64BE(56);
  if (failTime > BigInt(MAX_PLAUSIBLE_TIME))
    throw corrupt(path, `the record for uid ${uid} has an impossible time`, { uid });
  return { failLine: line.subarray(0, nul).toString('latin1'), failCount, failTime: Number(failTime) };
}

function ioError(action: string, path: string, e: unknown): FleetpassError {
  return new FleetpassError(
    'FP_FAILURE_COUNTER_IO',
    `cannot ${action} the pam_tally2 file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
    {
      cause: e,
      details: { path },
    },
  );
}

/** Reads the record of `uid` from an open file, checking the file is whole records; undefined past the end. */
async function readRecordFrom(fh: FileHandle, path: string, uid: number): Promise<TallyRecord | undefined> {
  const { size } = await fh.stat();
  if (size % TALLY_RECORD_SIZE !== 0) {
    throw corrupt(path, `it is ${size} bytes, not a whole number of ${TALLY_RECORD_SIZE}-byte records (truncated?)`, {
      size,
    });
  }
  const offset = uid * TALLY_RECORD_SIZE;
  // Records past the end (or in a hole of the sparse file) read as zeros, as pam_tally2 treats them.
  if (offset + TALLY_RECORD_SIZE > size) return undefined;
  const buf = Buffer.alloc(TALLY_RECORD_SIZE);
  const { bytesRead } = await fh.read(buf, 0, TALLY_RECORD_SIZE, offset);
  if (bytesRead !== TALLY_RECORD_SIZE)
    throw corrupt(path, `the record for uid ${uid} could not be read whole`, { uid });
  return decodeTallyRecord(buf, path, uid);
}

/** Reads the record of `uid`; undefined when the file or the record does not exist. Never follows a symlink. */
export async function readTallyRecord(path: string, uid: number): Promise<TallyRecord | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('read', path, e);
  }
  try {
    return await readRecordFrom(fh, path, uid);
  } catch (e) {
    throw e instanceof FleetpassError ? e : ioError('read', path, e);
  } finally {
    await fh.close();
  }
}

/**
 * Judges a record like pam_tally2's tally_bump + tally_check. The module bumps the count before it
 * checks `fail_cnt > deny`, so a stored count >= deny refuses the next login: that is "locked" here.
 * The lock lifts once fail_time + unlock_time <= now (root: root_unlock_time, only with even_deny_root);
 * lock_time refuses any login for lock_time seconds after the last failure.
 */
export function assessTally2(
  rec: TallyRecord | undefined,
  s: Tally2Settings,
  uid: number,
  now: Date,
): FailureAssessment {
  if (!rec || (rec.failCount === 0 && rec.failTime === 0)) return NO_FAILURES;
  const nowS = Math.floor(now.getTime() / 1000);
  const base = {
    failures: rec.failCount,
    lastFailure: rec.failTime ? fromEpochSeconds(rec.failTime) : undefined,
    lastFailureSource: rec.failLine,
  };
  let ends: number | undefined;
  let permanent = false;
  if (s.deny > 0 && rec.failCount >= s.deny && (uid !== 0 || s.evenDenyRoot)) {
    const unlockTime = uid !== 0 ? s.unlockTime : s.rootUnlockTime;
    if (!unlockTime || !rec.failTime) permanent = true;
    else if (rec.failTime + unlockTime > nowS) ends = rec.failTime + unlockTime;
  }
  if (!permanent && s.lockTime && rec.failTime && rec.failTime + s.lockTime > nowS) {
    ends = Math.max(ends ?? 0, rec.failTime + s.lockTime);
  }
  if (permanent) return { ...base, locked: true, lockPermanent: true };
  if (ends !== undefined) return { ...base, locked: true, lockEnds: fromEpochSeconds(ends), lockPermanent: false };
  return { ...base, locked: false, lockPermanent: false };
}

/**
 * Resets the record of `uid` (user `user`). The file is checked first and a damaged file is refused.
 * With the pam_tally2 binary: `pam_tally2 --file F --user U --reset --quiet`; without it the 64 bytes
 * are zeroed in place, as the binary does. A missing file or record is already clear.
 */
export async function resetTallyRecord(
  path: string,
  uid: number,
  user: string,
  run: CommandRunner,
  useBinary = findCommand('pam_tally2') !== undefined,
): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw ioError('open', path, e);
  }
  try {
    const rec = await readRecordFrom(fh, path, uid);
    if (!rec || (rec.failCount === 0 && rec.failTime === 0 && rec.failLine === '')) return;
    if (useBinary) {
      await fh.close();
      await run('pam_tally2', ['--file', path, '--user', user, '--reset', '--quiet']);
      return;
    }
    const { bytesWritten } = await fh.write(
      Buffer.alloc(TALLY_RECORD_SIZE),
      0,
      TALLY_RECORD_SIZE,
      uid * TALLY_RECORD_SIZE,
    );
    if (bytesWritten !== TALLY_RECORD_SIZE) throw ioError('write', path, new Error('short write'));
    await fh.sync();
  } catch (e) {
    throw e instanceof FleetpassError ? e : ioError('write', path, e);
  } finally {
    await fh.close().catch(() => undefined);
  }
}
