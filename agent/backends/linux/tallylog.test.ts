import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tally2Settings } from './pam-config';
import { assessTally2, decodeTallyRecord, readTallyRecord, resetTallyRecord, TALLY_RECORD_SIZE } from './tallylog';
import { runCommand, type CommandRunner } from './run-command';

/** One tallylog record, field by field at the documented offsets (x86_64, little endian). */
function record(failLine: string, failCount: number, failTime: number): Buffer {
  const b = Buffer.alloc(64);
  b.write(failLine, 0, 'latin1'); // char fail_line[52], NUL-padded
  b.writeUInt16LE(0, 52); // u16 reserved
  b.writeUInt16LE(failCount, 54); // u16 fail_cnt
  b.writeBigUInt64LE(BigInt(failTime), 56); // u64 fail_time
  return b;
}

/** A sparse-style tallylog: the record for uid N sits at N*64, holes are zeros. */
function tallylog(records: Record<number, Buffer>): Buffer {
  const maxUid = Math.max(...Object.keys(records).map(Number));
  const file = Buffer.alloc((maxUid + 1) * 64);
  for (const [uid, rec] of Object.entries(records)) rec.copy(file, Number(uid) * 64);
  return file;
}

const T0 = 1_780_000_000;
const at = (s: number) => new Date(s * 1000);
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const tally: Tally2Settings = {
  file: '/var/log/tallylog',
  deny: 3,
  lockTime: 0,
  unlockTime: 600,
  rootUnlockTime: 600,
  evenDenyRoot: false,
  magicRoot: false,
};

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fp-tally-'));
  path = join(dir, 'tallylog');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('reading tallylog fixtures', () => {
  it('reads the record of each uid at uid*64, and zeros for holes and past the end', async () => {
    writeFileSync(
      path,
      tallylog({ 0: record('tty1', 1, T0 - 50), 1001: record('10.0.0.9', 4, T0), 1003: record('pts/0', 2, T0 + 7) }),
    );
    expect(statSync(path).size).toBe(1004 * 64);
    expect(await readTallyRecord(path, 0)).toEqual({ failLine: 'tty1', failCount: 1, failTime: T0 - 50 });
    expect(await readTallyRecord(path, 1001)).toEqual({ failLine: '10.0.0.9', failCount: 4, failTime: T0 });
    expect(await readTallyRecord(path, 1003)).toEqual({ failLine: 'pts/0', failCount: 2, failTime: T0 + 7 });
    expect(await readTallyRecord(path, 1002)).toEqual({ failLine: '', failCount: 0, failTime: 0 });
    expect(await readTallyRecord(path, 5000)).toBeUndefined();
    expect(await readTallyRecord(join(dir, 'none'), 1001)).toBeUndefined();
  });

  it('rejects a truncated file with FP_TALLYLOG_CORRUPT', async () => {
    writeFileSync(path, tallylog({ 1001: record('x', 4, T0) }).subarray(0, 1001 * 64 + 40));
    await expect(readTallyRecord(path, 1001)).rejects.toMatchObject({
      code: 'FP_TALLYLOG_CORRUPT',
      message: expect.stringMatching(/whole number of 64-byte records/),
    });
  });

  it('rejects records pam_tally2 could not have written', () => {
    const bad = (mutate: (b: Buffer) => void) => {
      const b = record('tty1', 2, T0);
      mutate(b);
      return () => decodeTallyRecord(b, path, 1001);
    };
    expect(bad((b) => b.fill(0x41, 0, 52))).toThrow(/no terminated fail_line/);
    expect(bad((b) => (b[20] = 0x41))).toThrow(/bytes after its fail_line/);
    expect(bad((b) => (b[1] = 0x07))).toThrow(/non-text fail_line/);
    expect(bad((b) => b.writeUInt16LE(9, 52))).toThrow(/reserved/);
    expect(bad((b) => b.writeBigUInt64LE(0xffffffffffffffffn, 56))).toThrow(/impossible time/);
    expect(bad(() => undefined)()).toEqual({ failLine: 'tty1', failCount: 2, failTime: T0 });
  });

  it('rejects a garbage file of the right size', async () => {
    const garbage = Buffer.alloc(2000 * 64);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) % 251;
    writeFileSync(path, garbage);
    await expect(readTallyRecord(path, 1001)).rejects.toMatchObject({ code: 'FP_TALLYLOG_CORRUPT' });
  });
});

describe('assessTally2 follows tally_bump + tally_check', () => {
  it('locks at deny stored failures until fail_time + unlock_time', () => {
    const rec = { failLine: '10.0.0.9', failCount: 3, failTime: T0 };
    expect(assessTally2(rec, tally, 1001, at(T0 + 1))).toEqual({
      failures: 3,
      lastFailure: at(T0),
      lastFailureSource: '10.0.0.9',
      locked: true,
      lockEnds: at(T0 + 600),
      lockPermanent: false,
    });
    expect(assessTally2(rec, tally, 1001, at(T0 + 599)).locked).toBe(true);
    // Equality is unlocked: pam_tally2's tally_check lets the login through when
    // `opts->unlock_time + oldtime <= time(NULL)` (pam_faillock, by contrast, needs `latest + unlock_time < now`).
    expect(assessTally2(rec, tally, 1001, at(T0 + 600)).locked).toBe(false);
    expect(assessTally2({ ...rec, failCount: 2 }, tally, 1001, at(T0 + 1)).locked).toBe(false);
  });

  it('is permanent without unlock_time, exempts root without even_deny_root, and never locks with deny=0', () => {
    const rec = { failLine: 'tty1', failCount: 9, failTime: T0 };
    expect(assessTally2(rec, { ...tally, unlockTime: 0 }, 1001, at(T0 + 99999))).toMatchObject({
      locked: true,
      lockPermanent: true,
    });
    expect(assessTally2(rec, tally, 0, at(T0 + 1)).locked).toBe(false);
    expect(assessTally2(rec, { ...tally, evenDenyRoot: true, rootUnlockTime: 60 }, 0, at(T0 + 1))).toMatchObject({
      locked: true,
      lockEnds: at(T0 + 60),
    });
    expect(assessTally2(rec, { ...tally, deny: 0 }, 1001, at(T0 + 1)).locked).toBe(false);
  });

  it('applies lock_time after any failure', () => {
    const rec = { failLine: 'tty1', failCount: 1, failTime: T0 };
    expect(assessTally2(rec, { ...tally, lockTime: 30 }, 1001, at(T0 + 10))).toMatchObject({
      locked: true,
      lockEnds: at(T0 + 30),
    });
    expect(assessTally2(rec, { ...tally, lockTime: 30 }, 1001, at(T0 + 30)).locked).toBe(false);
  });

  it('reports nothing for an empty record', () => {
    expect(assessTally2(undefined, tally, 1001, at(T0))).toMatchObject({ failures: 0, locked: false });
    expect(assessTally2({ failLine: '', failCount: 0, failTime: 0 }, tally, 1001, at(T0))).toMatchObject({
      failures: 0,
      locked: false,
    });
  });
});

describe('resetting tallylog records', () => {
  it('zeroes only the record of that uid', async () => {
    const before = tallylog({
      0: record('tty1', 1, T0),
      1001: record('10.0.0.9', 4, T0),
      1003: record('pts/0', 2, T0),
    });
    writeFileSync(path, before);
    await resetTallyRecord(path, 1001, 'ilmnuser', runCommand, false);
    const after = readFileSync(path);
    expect(after.length).toBe(before.length);
    expect(after.subarray(1001 * 64, 1002 * 64)).toEqual(Buffer.alloc(64));
    const expected = Buffer.from(before);
    expected.fill(0, 1001 * 64, 1002 * 64);
    expect(after).toEqual(expected);
    expect(await readTallyRecord(path, 1003)).toEqual({ failLine: 'pts/0', failCount: 2, failTime: T0 });
  });

  it('does not grow the file or create it when there is nothing to reset', async () => {
    writeFileSync(path, tallylog({ 5: record('tty1', 1, T0) }));
    await resetTallyRecord(path, 1001, 'ilmnuser', runCommand, false);
    expect(statSync(path).size).toBe(6 * TALLY_RECORD_SIZE);
    await resetTallyRecord(join(dir, 'none'), 1001, 'ilmnuser', runCommand, false);
    expect(() => statSync(join(dir, 'none'))).toThrow();
  });

  it('leaves a truncated or garbage file byte for byte untouched', async () => {
    writeFileSync(path, tallylog({ 1001: record('x', 4, T0) }).subarray(0, 1001 * 64 + 17));
    const h = sha(path);
    await expect(resetTallyRecord(path, 1001, 'ilmnuser', runCommand, false)).rejects.toMatchObject({
      code: 'FP_TALLYLOG_CORRUPT',
    });
    expect(sha(path)).toBe(h);

    const garbage = record('tty1', 4, T0);
    garbage.writeUInt16LE(0xbeef, 52);
    writeFileSync(path, tallylog({ 1001: garbage }));
    const h2 = sha(path);
    await expect(resetTallyRecord(path, 1001, 'ilmnuser', runCommand, false)).rejects.toMatchObject({
      code: 'FP_TALLYLOG_CORRUPT',
    });
    expect(sha(path)).toBe(h2);
  });

  it('hands the reset to `pam_tally2 --file F --user U --reset` where the node has the binary', async () => {
    // pam_tally2 is not packaged on this Debian; this checks the argv the agent would run on an EL7 node.
    writeFileSync(path, tallylog({ 1001: record('x', 4, T0) }));
    const calls: string[][] = [];
    const recorder: CommandRunner = async (cmd, args) => {
      calls.push([cmd, ...args]);
      return { stdout: '', stderr: '', code: 0 };
    };
    await resetTallyRecord(path, 1001, 'ilmnuser', recorder, true);
    expect(calls).toEqual([['pam_tally2', '--file', path, '--user', 'ilmnuser', '--reset', '--quiet']]);
  });
});
