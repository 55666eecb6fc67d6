/**
 * The corpus judged in place (no sandbox) as on the image itself, where every module the files name is
 * installed: the pam_tally2 layouts with byte-built tallylog files (Debian has no pam_tally2 to run),
 * su for a user caller, GNOME's gdm-password on a real OL8, and each rule the old reader got wrong.
 * Records and tallylogs are written into a temporary copy of the fixture, never into the corpus.
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootFs } from '../../agent/backends/linux/pam/root-fs';
import {
  judgeAccount,
  loadPamLayout,
  type AccountPamVerdict,
  type PamAnalysisOptions,
} from '../../agent/backends/linux/pam/login-analysis';
import { fixtureRoot } from '../fixtures/pam/fixtures';

const NOW = 1_780_000_000;
const USER = { name: 'ilmnuser', uid: 1201, gid: 1201, home: '/home/ilmnuser', shell: '/bin/bash' };
const ROOT = { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' };

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'fp-pamfix-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of `fixture` under tmp (symlinks kept), to add counter files to. */
function image(fixture: string): string {
  const dir = join(tmp, fixture);
  cpSync(fixtureRoot(fixture), dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

/** struct tallylog records, each at uid*64 (little endian, as on x86_64). */
function tallylog(dir: string, records: Array<{ uid: number; count: number; time: number }>, mode = 0o600): void {
  const size = (Math.max(...records.map((r) => r.uid)) + 1) * 64;
  const b = Buffer.alloc(size);
  for (const r of records) {
    b.write('10.1.1.5', r.uid * 64, 'latin1');
    b.writeUInt16LE(r.count, r.uid * 64 + 54);
    b.writeBigUInt64LE(BigInt(r.time), r.uid * 64 + 56);
  }
  mkdirSync(join(dir, 'var/log'), { recursive: true });
  writeFileSync(join(dir, 'var/log/tallylog'), b);
  chmodSync(join(dir, 'var/log/tallylog'), mode);
}

/** pam_faillock records (struct tally: source[52], u16 reserved, u16 status VALID, u64 time). */
function faillock(dir: string, user: string, times: number[]): void {
  const b = Buffer.alloc(times.length * 64);
  times.forEach((t, i) => {
    b.write('10.1.1.5', i * 64, 'latin1');
    b.writeUInt16LE(0x3, i * 64 + 54);
    b.writeBigUInt64LE(BigInt(t), i * 64 + 56);
  });
  mkdirSync(join(dir, 'var/run/faillock'), { recursive: true });
  writeFileSync(join(dir, 'var/run/faillock', user), b);
}

async function judge(dir: string, user = USER, now = NOW): Promise<AccountPamVerdict> {
  const opts: PamAnalysisOptions = {
    fs: rootFs(dir),
    pamDir: '/etc/pam.d',
    faillockConf: '/etc/security/faillock.conf',
    services: [],
    groupPath: '/etc/group',
    moduleDir: '/usr/lib64/security',
    moduleExists: async () => true,
  };
  return judgeAccount(await loadPamLayout(opts), user, opts, new Date(now * 1000));
}
const verdicts = (v: AccountPamVerdict) =>
  Object.fromEntries(v.services.map((s) => [s.service, s.verdict === 'refuses' ? `refuses:${s.cause}` : s.verdict]));

describe('CentOS 7 with pam_tally2 (system-auth -> system-auth-ac)', () => {
  it('refuses once the stored count reaches deny (the module adds the failure before checking), until unlock_time', async () => {
    const dir = image('centos7-authconfig-tally2');
    tallylog(dir, [{ uid: USER.uid, count: 9, time: NOW - 10 }]);
    expect(verdicts(await judge(dir))).toEqual({ sshd: 'accepts', login: 'accepts', su: 'accepts', sudo: 'accepts' });
    tallylog(dir, [{ uid: USER.uid, count: 10, time: NOW - 10 }]);
    const locked = await judge(dir);
    expect(verdicts(locked)).toEqual({
      sshd: 'refuses:counter',
      login: 'refuses:counter',
      su: 'refuses:counter',
      sudo: 'refuses:counter',
    });
    expect(locked.counterLock).toMatchObject({
      kind: 'tally2',
      deny: 10,
      failures: 10,
      store: '/var/log/tallylog',
      lockEnds: new Date((NOW - 10 + 600) * 1000),
    });
    // unlock_time + fail_time <= now lifts it.
    expect(verdicts(await judge(dir, USER, NOW - 10 + 600))).toEqual({
      sshd: 'accepts',
      login: 'accepts',
      su: 'accepts',
      sudo: 'accepts',
    });
    // root is exempt without even_deny_root; its login goes through pam_securetty, which depends on the tty.
    tallylog(dir, [{ uid: 0, count: 50, time: NOW }]);
    expect((await judge(dir, ROOT)).services.find((s) => s.service === 'sshd')!.verdict).toBe('accepts');
  });

  it('a world-writable or non-regular tallylog makes pam_tally2 (onerr=fail) refuse every login', async () => {
    const dir = image('centos7-authconfig-tally2');
    tallylog(dir, [{ uid: USER.uid, count: 0, time: 0 }], 0o666);
    const v = await judge(dir);
    expect(verdicts(v)).toEqual({ sshd: 'refuses:pam', login: 'refuses:pam', su: 'refuses:pam', sudo: 'refuses:pam' });
    expect(v.pamRefuses!.why).toMatch(/world-writable.*onerr=fail every login is refused/);
  });

  it('deny=abc under the default onerr=fail refuses every sshd login; magic_root never locks root-run services but does lock su', async () => {
    const dir = image('centos7-tally2-broken');
    tallylog(dir, [{ uid: USER.uid, count: 12, time: NOW - 5 }]);
    const v = await judge(dir);
    // sshd: password-auth-ac has deny=abc; login (run by root) has magic_root; su and sudo are run by the user.
    expect(verdicts(v)).toEqual({
      sshd: 'refuses:pam',
      login: 'accepts',
      su: 'refuses:counter',
      sudo: 'refuses:counter',
    });
    expect(v.pamRefuses!.why).toMatch(/bad number in "deny=abc"/);
    expect(v.services.find((s) => s.service === 'login')!.steps.some((s) => /magic_root/.test(s.why))).toBe(true);
  });

  it('onerr=succeed read before the bad argument lets logins through uncounted', async () => {
    const dir = image('centos7-tally2-broken');
    const f = join(dir, 'etc/pam.d/password-auth-ac');
    const { readFileSync } = await import('node:fs');
    writeFileSync(f, readFileSync(f, 'utf8').replace('pam_tally2.so deny=abc', 'pam_tally2.so onerr=succeed deny=abc'));
    tallylog(dir, [{ uid: USER.uid, count: 12, time: NOW - 5 }]);
    expect((await judge(dir)).services.find((s) => s.service === 'sshd')!.verdict).toBe('accepts');
  });
});

describe('Oracle Linux 8 as installed (every module present)', () => {
  it('su and sudo lock like sshd for a user caller; the GNOME login does too once pam_selinux_permit is installed', async () => {
    const dir = image('ol8-workstation-gdm');
    faillock(
      dir,
      'ilmnuser',
      Array.from({ length: 3 }, (_, i) => NOW - 100 + i),
    );
    const v = await judge(dir);
    expect(verdicts(v)).toEqual({
      sshd: 'refuses:counter',
      login: 'refuses:counter',
      'gdm-password': 'refuses:counter',
      su: 'refuses:counter',
      sudo: 'refuses:counter',
      cockpit: 'refuses:counter',
    });
    expect(v.counterLock).toMatchObject({
      kind: 'faillock',
      deny: 3,
      failures: 3,
      lockEnds: new Date((NOW - 98 + 600) * 1000),
    });
    faillock(
      dir,
      'ilmnuser',
      Array.from({ length: 2 }, (_, i) => NOW - 100 + i),
    );
    expect(Object.values(verdicts(await judge(dir)))).toEqual(Array(6).fill('accepts'));
  });

  it('never reads a file libpam would not open: stale backups do not change the verdict', async () => {
    const stale = image('broken-stale-backups');
    const clean = image('ol8-authselect-minimal-faillock');
    for (const d of [stale, clean]) faillock(d, 'ilmnuser', [NOW - 3]);
    expect(verdicts(await judge(stale))).toEqual(verdicts(await judge(clean)));
    expect(Object.values(verdicts(await judge(stale)))).toEqual(Array(5).fill('accepts'));
  });

  it('a pam_faillock line with no action word is preauth, with its own deny', async () => {
    const dir = image('broken-implicit-preauth');
    faillock(dir, 'ilmnuser', [NOW - 3, NOW - 2, NOW - 1]);
    const v = await judge(dir);
    expect(v.counterLock).toMatchObject({ deny: 3, failures: 3 });
    expect(v.strictest!.why).toMatch(/preauth \(no action word: preauth\) deny=3/);
  });
});

describe('services that disagree, and layouts that cannot be judged', () => {
  it('sshd denying after 10 and login after 3: login is the strictest and makes the state, each verdict is kept', async () => {
    const dir = image('ol8-authselect-minimal-faillock');
    const { readFileSync } = await import('node:fs');
    for (const [file, deny] of [
      ['system-auth', 3],
      ['password-auth', 10],
    ] as const) {
      const f = join(dir, 'etc/authselect', file);
      writeFileSync(
        f,
        readFileSync(f, 'utf8').replace(
          /pam_faillock\.so (preauth silent|authfail)$/gm,
          `pam_faillock.so $1 deny=${deny}`,
        ),
      );
    }
    faillock(dir, 'ilmnuser', [NOW - 4, NOW - 3, NOW - 2, NOW - 1]);
    const v = await judge(dir);
    expect(verdicts(v)).toEqual({
      sshd: 'accepts',
      login: 'refuses:counter',
      su: 'refuses:counter',
      sudo: 'refuses:counter',
      cockpit: 'accepts',
    });
    expect(v.strictest!.service).toBe('login');
    expect(v.counterLock).toMatchObject({ service: 'login', deny: 3, failures: 4 });
    expect(v.services.find((s) => s.service === 'sshd')!.counters[0]).toMatchObject({
      deny: 10,
      failures: 4,
      locked: false,
    });
  });

  it('a module whose answer decides the login and cannot be known makes the verdict unknown, never "unlocked"', async () => {
    const dir = image('ol8-authselect-minimal-faillock');
    writeFileSync(
      join(dir, 'etc/pam.d/sshd'),
      '#%PAM-1.0\nauth [success=done default=die] pam_vendor_otp.so\nauth substack password-auth\n',
    );
    const v = await judge(dir);
    const sshd = v.services.find((s) => s.service === 'sshd')!;
    expect(sshd.verdict).toBe('unknown');
    expect(v.unknown).toMatch(/^sshd: the result depends on pam_vendor_otp at \/etc\/pam\.d\/sshd:2/);
  });
});
