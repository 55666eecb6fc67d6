import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAILLOCK_DEFAULTS, type FaillockSettings } from './pam-config';
import { assessFaillock, parseFaillockRecords, readFaillock, resetFaillock } from './faillock';
import { runCommand } from './run-command';

/** One pam_faillock record, written field by field at the documented offsets (x86_64, little endian). */
function record(source: string, status: number, time: number): Buffer {
  const b = Buffer.alloc(64);
  b.write(source.slice(0, 52), 0, 'latin1'); // char source[52], not always NUL-terminated
  b.writeUInt16LE(0, 52); // u16 reserved
  b.writeUInt16LE(status, 54); // u16 status
  b.writeBigUInt64LE(BigInt(time), 56); // u64 time
  return b;
}

const T0 = 1_780_000_000; // a fixed epoch second
const at = (s: number) => new Date(s * 1000);
const settings: FaillockSettings = { ...FAILLOCK_DEFAULTS, deny: 3, unlockTime: 600, failInterval: 900 };

describe('parseFaillockRecords', () => {
  it('decodes source, status bits and time', () => {
    const recs = parseFaillockRecords(
      Buffer.concat([
        record('10.0.0.7', 0x1 | 0x2, T0),
        record('pts/3', 0x1 | 0x4, T0 + 5),
        record('sshd', 0x0, T0 + 9),
      ]),
    );
    expect(recs).toEqual([
      { source: '10.0.0.7', status: 3, time: T0, valid: true, sourceType: 'rhost' },
      { source: 'pts/3', status: 5, time: T0 + 5, valid: true, sourceType: 'tty' },
      { source: 'sshd', status: 0, time: T0 + 9, valid: false, sourceType: 'service' },
    ]);
  });

  it('reads a 52-character source that has no terminating NUL', () => {
    const host = 'h'.repeat(52);
    expect(parseFaillockRecords(record(host, 3, T0))[0].source).toBe(host);
  });

  it('ignores a trailing partial record and stops at 1024 records, like read_tally', () => {
    expect(parseFaillockRecords(Buffer.concat([record('a', 1, T0), Buffer.alloc(30, 7)]))).toHaveLength(1);
    const many = Buffer.concat(Array.from({ length: 1030 }, (_, i) => record('x', 1, T0 + i)));
    expect(parseFaillockRecords(many)).toHaveLength(1024);
  });

  it('reads big-endian files when told the host is big-endian', () => {
    const b = Buffer.alloc(64);
    b.write('tty1', 0);
    b.writeUInt16BE(5, 54);
    b.writeBigUInt64BE(BigInt(T0), 56);
    expect(parseFaillockRecords(b, 'BE')[0]).toMatchObject({ source: 'tty1', status: 5, time: T0 });
  });
});

describe('assessFaillock follows check_tally', () => {
  const three = parseFaillockRecords(
    Buffer.concat([record('svc', 1, T0), record('svc', 1, T0 + 10), record('1.2.3.4', 3, T0 + 20)]),
  );

  it('locks at deny failures until latest + unlock_time', () => {
    const a = assessFaillock(three, settings, false, at(T0 + 30));
    expect(a).toEqual({
      failures: 3,
      lastFailure: at(T0 + 20),
      lastFailureSource: '1.2.3.4',
      locked: true,
      lockEnds: at(T0 + 620),
      lockPermanent: false,
    });
    expect(assessFaillock(three, settings, false, at(T0 + 620)).locked).toBe(true);
    expect(assessFaillock(three, settings, false, at(T0 + 621)).locked).toBe(false);
  });

  it('does not lock below the threshold', () => {
    const a = assessFaillock(three.slice(0, 2), settings, false, at(T0 + 11));
    expect(a).toMatchObject({ failures: 2, locked: false, lockPermanent: false });
    expect(a.lockEnds).toBeUndefined();
  });

  it('counts only valid records inside fail_interval of the latest one', () => {
    const recs = parseFaillockRecords(
      Buffer.concat([
        record('old', 1, T0 - 1000),
        record('gone', 0, T0),
        record('a', 1, T0 + 1),
        record('b', 1, T0 + 2),
      ]),
    );
    expect(assessFaillock(recs, settings, false, at(T0 + 3))).toMatchObject({
      failures: 2,
      locked: false,
      lastFailureSource: 'b',
    });
    expect(assessFaillock(recs, { ...settings, failInterval: 2000 }, false, at(T0 + 3))).toMatchObject({
      failures: 3,
      locked: true,
    });
  });

  it('never unlocks by itself when unlock_time is 0 (never)', () => {
    const a = assessFaillock(three, { ...settings, unlockTime: 0, rootUnlockTime: 0 }, false, at(T0 + 100_000));
    expect(a).toMatchObject({ locked: true, lockPermanent: true });
    expect(a.lockEnds).toBeUndefined();
  });

  it('exempts admins unless even_deny_root, and then uses root_unlock_time', () => {
    expect(assessFaillock(three, settings, true, at(T0 + 30)).locked).toBe(false);
    const strict = { ...settings, evenDenyRoot: true, rootUnlockTime: 60 };
    expect(assessFaillock(three, strict, true, at(T0 + 30))).toMatchObject({ locked: true, lockEnds: at(T0 + 80) });
    expect(assessFaillock(three, strict, true, at(T0 + 81)).locked).toBe(false);
  });

  it('never locks when deny is 0, and reports nothing for an empty file', () => {
    expect(assessFaillock(three, { ...settings, deny: 0 }, false, at(T0 + 30)).locked).toBe(false);
    expect(assessFaillock([], settings, false, at(T0))).toEqual({
      failures: 0,
      lastFailureSource: '',
      locked: false,
      lockPermanent: false,
    });
  });
});

describe('reading and clearing record files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fp-faillock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file, treats a missing file as empty, and refuses symlinks', async () => {
    writeFileSync(join(dir, 'ilmnuser'), Buffer.concat([record('svc', 1, T0), record('svc', 1, T0 + 1)]));
    expect(await readFaillock(dir, 'ilmnuser')).toHaveLength(2);
    expect(await readFaillock(dir, 'nobody')).toEqual([]);
    symlinkSync(join(dir, 'ilmnuser'), join(dir, 'linked'));
    await expect(readFaillock(dir, 'linked')).rejects.toMatchObject({ code: 'FP_FAILURE_COUNTER_IO' });
  });

  it('truncates the file when the faillock binary is not used, and leaves other users alone', async () => {
    writeFileSync(join(dir, 'ilmnuser'), record('svc', 1, T0));
    writeFileSync(join(dir, 'ilmnadmin'), record('svc', 1, T0));
    await resetFaillock(dir, 'ilmnuser', runCommand, false);
    expect(statSync(join(dir, 'ilmnuser')).size).toBe(0);
    expect(readFileSync(join(dir, 'ilmnadmin'))).toHaveLength(64);
    await resetFaillock(dir, 'missing-user', runCommand, false);
  });

  it('clears with the real `faillock --dir D --user U --reset` binary', async () => {
    // root exists on every host; the file lives in this temporary directory, not in the host's tally dir.
    writeFileSync(join(dir, 'root'), Buffer.concat([record('svc', 1, T0), record('svc', 1, T0 + 1)]));
    await resetFaillock(dir, 'root', runCommand, true);
    expect(statSync(join(dir, 'root')).size).toBe(0);
  });
});
