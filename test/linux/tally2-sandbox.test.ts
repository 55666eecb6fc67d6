/**
 * pam_tally2 nodes (older NextSeq images): pam_tally2 is not packaged on current Debian, so the sandbox's
 * PAM service names it and /var/log/tallylog is a fixture built byte by byte; the real backend, inside
 * the sandbox, detects the counter, reads the records by uid and resets them. Damaged files are refused
 * and left byte for byte as they were, and so is the password.
 */
import { createHash } from 'node:crypto';
import { createPamSandbox, type PamSandbox } from '../../shared/pam-sandbox';
import { FailureCounter, LockReason } from '../../shared/gen/fleetpass/v1/common';
import { startSandboxedBackend, type SandboxedBackend } from './helpers/sandboxed-backend';

/** One struct tallylog, field by field: fail_line[52], u16 reserved, u16 fail_cnt, u64 fail_time (little endian). */
function record(failLine: string, failCount: number, failTime: number): Buffer {
  const b = Buffer.alloc(64);
  b.write(failLine, 0, 'latin1');
  b.writeUInt16LE(0, 52);
  b.writeUInt16LE(failCount, 54);
  b.writeBigUInt64LE(BigInt(failTime), 56);
  return b;
}

function tallylog(records: Map<number, Buffer>): Buffer {
  const file = Buffer.alloc((Math.max(...records.keys()) + 1) * 64);
  for (const [uid, rec] of records) rec.copy(file, uid * 64);
  return file;
}

const T = 1_780_000_000;
const at = (s: number) => new Date(s * 1000);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/**
 * Debian has no pam_tally2.so, and the agent checks that every module it judges exists (libpam fails a
 * missing one). The EL7 module directory is therefore named in the config and holds stand-in files of
 * the two modules the service uses; the agent never loads them, it only checks they are there.
 */
const EL7_MODULES = '/etc/security/el7-modules';
const config = { pamServices: ['system-auth'], pamModuleDir: EL7_MODULES };

let sb: PamSandbox;
let backend: SandboxedBackend;
let uid: Record<string, number>;

beforeAll(async () => {
  sb = await createPamSandbox({
    users: [
      { name: 'ilmnuser', password: 'User-pw-1', uid: 1201 },
      { name: 'ilmnadmin', password: 'Admin-pw-2', uid: 1202 },
      { name: 'ilmnlocked', password: 'Locked-pw-3', uid: 1203 },
    ],
  });
  // An EL7-style service, as on older NextSeq images.
  await sb.writeFile(
    '/etc/pam.d/system-auth',
    [
      'auth     required  pam_tally2.so deny=3 unlock_time=600 onerr=fail file=/var/log/tallylog',
      'auth     sufficient pam_unix.so nullok try_first_pass',
      'account  required  pam_tally2.so',
      '',
    ].join('\n'),
  );
  for (const m of ['pam_tally2.so', 'pam_unix.so']) await sb.writeFile(`${EL7_MODULES}/${m}`, '', 0o644);
  backend = startSandboxedBackend(sb, config);
  uid = { ilmnuser: 1201, ilmnadmin: 1202, ilmnlocked: 1203 };
});
afterAll(async () => {
  await backend?.stop();
  await sb?.destroy();
});

async function writeFixture(): Promise<Buffer> {
  const file = tallylog(
    new Map([
      [0, record('tty1', 2, T - 3600)],
      [uid.ilmnuser, record('10.1.1.5', 4, T)],
      [uid.ilmnadmin, record('pts/0', 1, T - 60)],
    ]),
  );
  await sb.writeFile('/var/log/tallylog', file, 0o600);
  return file;
}

describe('pam_tally2 tallylog', () => {
  it('detects pam_tally2 and reads each uid record with the deny and unlock time from PAM', async () => {
    await writeFixture();
    const user = await backend.inspect('ilmnuser', { config, now: at(T + 10) });
    expect(user).toMatchObject({
      counter: FailureCounter.FAILURE_COUNTER_TALLY2,
      locked: true,
      lockReasons: [LockReason.LOCK_REASON_TOO_MANY_FAILURES],
      failureCount: 4,
      denyThreshold: 3,
      lastFailureSource: '10.1.1.5',
      lockPermanent: false,
    });
    expect(user.lastFailure).toEqual(at(T));
    expect(user.lockEnds).toEqual(at(T + 600));
    expect(user.details['linux.counter_file']).toBe('/var/log/tallylog');
    expect((await backend.inspect('ilmnuser', { config, now: at(T + 600) })).locked).toBe(false);

    expect(await backend.inspect('ilmnadmin', { config, now: at(T) })).toMatchObject({
      locked: false,
      failureCount: 1,
      lastFailureSource: 'pts/0',
    });
    expect(await backend.inspect('ilmnlocked', { config, now: at(T) })).toMatchObject({
      locked: false,
      failureCount: 0,
    });
    // root is exempt without even_deny_root.
    expect(await backend.inspect('root', { config, now: at(T) })).toMatchObject({
      locked: false,
      failureCount: 2,
      details: expect.objectContaining({ 'linux.counter_exempt': 'true' }),
    });
  });

  it('unlock zeroes exactly the record of that uid', async () => {
    const before = await writeFixture();
    const result = await backend.unlock('ilmnuser', { config, now: at(T + 10) });
    expect(result.before.locked).toBe(true);
    expect(result.after).toMatchObject({ locked: false, failureCount: 0 });
    expect(result.notes).toEqual(['cleared 4 failed logins']);
    const after = await sb.readFile('/var/log/tallylog');
    const expected = Buffer.from(before);
    expected.fill(0, uid.ilmnuser * 64, (uid.ilmnuser + 1) * 64);
    expect(after).toEqual(expected);
    // A second unlock writes nothing.
    const again = await backend.unlock('ilmnuser', { config, now: at(T + 10) });
    expect(again.notes).toEqual(['nothing to unlock: no failed logins and no password lock']);
    expect(await sb.readFile('/var/log/tallylog')).toEqual(expected);
  });

  it('a password reset clears the tally2 record too', async () => {
    await writeFixture();
    const result = await backend.resetPassword('ilmnuser', 'User-new-pw-4', { config, now: at(T + 10) });
    expect(result.after).toMatchObject({ locked: false, failureCount: 0 });
    expect(await sb.authenticate('ilmnuser', 'User-new-pw-4')).toBe(true); // pam_unix via the faillock service
  });

  it.each([
    ['truncated', (good: Buffer) => good.subarray(0, good.length - 20)],
    ['garbage', (good: Buffer) => Buffer.from(good.map((_, i) => (i * 31 + 7) % 256))],
  ])(
    'a %s file is refused with FP_TALLYLOG_CORRUPT and neither it nor the password changes',
    async (_label, damage) => {
      const good = await writeFixture();
      const bad = damage(good);
      await sb.writeFile('/var/log/tallylog', bad, 0o600);
      const shadow = await sb.shadowLine('ilmnuser');

      await expect(backend.inspect('ilmnuser', { config })).rejects.toMatchObject({
        code: 'FP_TALLYLOG_CORRUPT',
        message: expect.stringMatching(/left untouched/),
      });
      await expect(backend.unlock('ilmnuser', { config })).rejects.toMatchObject({ code: 'FP_TALLYLOG_CORRUPT' });
      await expect(backend.resetPassword('ilmnuser', 'Never-set-pw-5', { config })).rejects.toMatchObject({
        code: 'FP_TALLYLOG_CORRUPT',
      });
      await expect(backend.call('resetFailureCounter', 'ilmnuser', { config })).rejects.toMatchObject({
        code: 'FP_TALLYLOG_CORRUPT',
      });

      expect(sha(await sb.readFile('/var/log/tallylog'))).toBe(sha(bad));
      expect(await sb.shadowLine('ilmnuser')).toBe(shadow);
    },
  );
});
