import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFaillockConf, parsePamFile, readLockoutConfig, type LockoutConfig } from './pam-config';

let root: string;
let pamDir: string;
let conf: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'fp-pamcfg-'));
  pamDir = join(root, 'pam.d');
  mkdirSync(pamDir);
  conf = join(root, 'faillock.conf');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function pam(name: string, text: string): void {
  writeFileSync(join(pamDir, name), text);
}

function faillockOf(c: LockoutConfig) {
  if (c.counter !== 'faillock') throw new Error(`expected faillock, got ${c.counter}`);
  return c.faillock;
}

describe('parsing', () => {
  it('parses PAM lines with bracket controls, comments, continuations and "-" types', () => {
    const lines = parsePamFile(
      [
        '# comment',
        'auth  required  pam_faillock.so preauth silent deny=4 # trailing',
        'auth  [success=1 default=bad]  pam_unix.so',
        '-auth optional /lib/security/pam_tally2.so \\',
        '   deny=5',
        '@include common-auth',
      ].join('\n'),
      'svc',
    );
    expect(lines.map((l) => [l.type, l.control, l.module, l.args.join(' ')])).toEqual([
      ['auth', 'required', 'pam_faillock.so', 'preauth silent deny=4'],
      ['auth', '[success=1 default=bad]', 'pam_unix.so', ''],
      ['auth', 'optional', '/lib/security/pam_tally2.so', 'deny=5'],
      ['@include', '', 'common-auth', ''],
    ]);
  });

  it('parses faillock.conf keys in every spelling', () => {
    expect(parseFaillockConf('deny = 4\nunlock_time=never\n even_deny_root \n# x = 1\nfail_interval 60 # c')).toEqual([
      ['deny', '4'],
      ['unlock_time', 'never'],
      ['even_deny_root', ''],
      ['fail_interval', '60'],
    ]);
  });
});

describe('readLockoutConfig', () => {
  it('uses pam_faillock defaults when neither conf nor arguments say otherwise', async () => {
    pam('login', 'auth required pam_faillock.so preauth\n');
    const c = await readLockoutConfig({ pamDir, faillockConf: conf });
    expect(faillockOf(c)).toEqual({
      dir: '/var/run/faillock',
      deny: 3,
      failInterval: 900,
      unlockTime: 600,
      rootUnlockTime: 600,
      evenDenyRoot: false,
    });
  });

  it('applies faillock.conf, then module arguments over it', async () => {
    writeFileSync(conf, 'dir = /run/fl\ndeny = 10\nunlock_time = 900\nfail_interval = 120\nadmin_group = wheel\n');
    pam(
      'system-auth',
      'auth required pam_faillock.so preauth silent deny=5\nauth [default=die] pam_faillock.so authfail deny=5\n',
    );
    const c = await readLockoutConfig({ pamDir, faillockConf: conf });
    expect(faillockOf(c)).toEqual({
      dir: '/run/fl',
      deny: 5,
      failInterval: 120,
      unlockTime: 900,
      rootUnlockTime: 900,
      evenDenyRoot: false,
      adminGroup: 'wheel',
    });
    expect(c.sources).toEqual([conf, `${join(pamDir, 'system-auth')}:1`]);
    expect(c.warnings).toEqual([]);
  });

  it('reads unlock_time=never as 0 and keeps root_unlock_time separate once set', async () => {
    writeFileSync(conf, 'unlock_time = never\nroot_unlock_time = 60\neven_deny_root\n');
    pam('login', 'auth required pam_faillock.so preauth\n');
    const f = faillockOf(await readLockoutConfig({ pamDir, faillockConf: conf }));
    expect(f).toMatchObject({ unlockTime: 0, rootUnlockTime: 60, evenDenyRoot: true });
  });

  it('honours conf= on the module line instead of the default conf file', async () => {
    writeFileSync(conf, 'deny = 9\n');
    const other = join(root, 'other.conf');
    writeFileSync(other, 'deny = 7\n');
    pam('login', `auth required pam_faillock.so preauth conf=${other}\n`);
    expect(faillockOf(await readLockoutConfig({ pamDir, faillockConf: conf })).deny).toBe(7);
  });

  it('keeps the previous value and warns on bad values, as pam_faillock does', async () => {
    writeFileSync(conf, 'deny = lots\ndir = relative/dir\nunlock_time = 9999999\n');
    pam('login', 'auth required pam_faillock.so preauth bogus_option\n');
    const c = await readLockoutConfig({ pamDir, faillockConf: conf });
    expect(faillockOf(c)).toMatchObject({ deny: 3, dir: '/var/run/faillock', unlockTime: 600 });
    expect(c.warnings.join('\n')).toMatch(/bad deny value "lots"/);
    expect(c.warnings.join('\n')).toMatch(/not absolute/);
    expect(c.warnings.join('\n')).toMatch(/unknown pam_faillock option "bogus_option"/);
  });

  it('prefers the preauth line and warns when lines disagree', async () => {
    pam('a-sshd', 'auth [default=die] pam_faillock.so authfail deny=8\n');
    pam('b-login', 'auth required pam_faillock.so preauth deny=4\n');
    const c = await readLockoutConfig({ pamDir, faillockConf: conf });
    expect(faillockOf(c).deny).toBe(4);
    expect(c.warnings.join('\n')).toMatch(/differ/);
  });

  it('reads only the named services and what they include', async () => {
    pam('common-auth', 'auth required pam_faillock.so preauth deny=6\n');
    pam('login', '@include common-auth\n');
    pam('sshd', 'auth required pam_faillock.so preauth deny=2\n');
    const c = await readLockoutConfig({ pamDir, faillockConf: conf, pamServices: ['login'] });
    expect(faillockOf(c).deny).toBe(6);
    expect(c.warnings).toEqual([]);
  });

  it('detects pam_tally2 with its arguments and file=', async () => {
    pam(
      'system-auth',
      'auth required pam_tally2.so deny=5 unlock_time=600 onerr=fail file=/var/log/tl2\naccount required pam_tally2.so\n',
    );
    const c = await readLockoutConfig({ pamDir, faillockConf: conf });
    expect(c.counter).toBe('tally2');
    if (c.counter !== 'tally2') return;
    expect(c.tally2).toEqual({
      file: '/var/log/tl2',
      deny: 5,
      lockTime: 0,
      unlockTime: 600,
      rootUnlockTime: 600,
      evenDenyRoot: false,
      magicRoot: false,
    });
  });

  it('treats root_unlock_time as implying even_deny_root for pam_tally2', async () => {
    pam('login', 'auth required pam_tally2.so deny=3 root_unlock_time=60 magic_root\n');
    const c = await readLockoutConfig({ pamDir, faillockConf: conf }, 'auto');
    expect(c.counter === 'tally2' && c.tally2).toMatchObject({
      evenDenyRoot: true,
      rootUnlockTime: 60,
      unlockTime: 0,
      magicRoot: true,
      file: '/var/log/tallylog',
    });
  });

  it('lets the config override the tallylog path', async () => {
    pam('login', 'auth required pam_tally2.so deny=3\n');
    const c = await readLockoutConfig({ pamDir, faillockConf: conf, tallylogPath: '/tmp/x' });
    expect(c.counter === 'tally2' && c.tally2.file).toBe('/tmp/x');
  });

  it('prefers pam_faillock when both are configured, and reports none when neither is', async () => {
    pam('login', 'auth required pam_tally2.so deny=3\nauth required pam_faillock.so preauth\n');
    const both = await readLockoutConfig({ pamDir, faillockConf: conf });
    expect(both.counter).toBe('faillock');
    expect(both.warnings.join()).toMatch(/both/);
    rmSync(join(pamDir, 'login'));
    pam('login', 'auth required pam_unix.so\n');
    expect((await readLockoutConfig({ pamDir, faillockConf: conf })).counter).toBe('none');
  });

  it('forces a counter when configured', async () => {
    pam('login', 'auth required pam_unix.so\n');
    const c = await readLockoutConfig({ pamDir, faillockConf: conf }, 'faillock');
    expect(faillockOf(c).deny).toBe(3);
    expect(c.warnings.join()).toMatch(/no pam_faillock.so auth line/);
  });

  it('fails with FP_PAM_CONFIG_UNREADABLE when the PAM directory cannot be read', async () => {
    await expect(readLockoutConfig({ pamDir: join(root, 'nope'), faillockConf: conf })).rejects.toMatchObject({
      code: 'FP_PAM_CONFIG_UNREADABLE',
    });
  });
});
