import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  findPasswdEntry,
  findShadowEntry,
  parseShadowLine,
  passwordStatus,
  readLocalAccount,
  userInGroup,
} from './shadow';

const DAY = 86_400_000;
const day = (n: number) => new Date(n * DAY);

describe('passwd, shadow and group parsing', () => {
  const passwd = [
    'root:x:0:0:root:/root:/bin/bash',
    'ilmnuser:x:1001:1001:,,,:/home/ilmnuser:/bin/bash',
    'broken:x:abc:1:::',
  ].join('\n');

  it('finds passwd entries by exact name', () => {
    expect(findPasswdEntry(passwd, 'ilmnuser')).toEqual({
      name: 'ilmnuser',
      uid: 1001,
      gid: 1001,
      home: '/home/ilmnuser',
      shell: '/bin/bash',
    });
    expect(findPasswdEntry(passwd, 'ilmn')).toBeUndefined();
    expect(findPasswdEntry(passwd, 'broken')).toBeUndefined();
  });

  it('parses shadow fields, empty numbers as null', () => {
    expect(parseShadowLine('ilmnuser:$6$s$h:20000:0:99999:7:::')).toEqual({
      name: 'ilmnuser',
      hash: '$6$s$h',
      lastChangeDays: 20000,
      minDays: 0,
      maxDays: 99999,
      warnDays: 7,
      inactiveDays: null,
      expireDays: null,
    });
    expect(parseShadowLine('not a shadow line')).toBeUndefined();
    expect(findShadowEntry('a:!:1::::::\nab:*:2::::::', 'ab')?.hash).toBe('*');
  });

  it('finds group membership by primary gid or member list', () => {
    const groups = 'wheel:x:10:alice,bob\nilmnuser:x:1001:';
    const u = { name: 'ilmnuser', uid: 1001, gid: 1001, home: '/', shell: '/bin/sh' };
    expect(userInGroup(groups, 'ilmnuser', u)).toBe(true);
    expect(userInGroup(groups, 'wheel', u)).toBe(false);
    expect(userInGroup(groups, 'wheel', { ...u, name: 'bob' })).toBe(true);
    expect(userInGroup(groups, 'nogroup', u)).toBe(false);
  });

  it('reads an account from files and reports unreadable files with a code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-shadow-'));
    try {
      writeFileSync(join(dir, 'passwd'), passwd);
      writeFileSync(join(dir, 'shadow'), 'ilmnuser:!$6$x$y:20000:0:99999:7:::\n');
      const paths = { passwdPath: join(dir, 'passwd'), shadowPath: join(dir, 'shadow'), groupPath: join(dir, 'group') };
      const acct = await readLocalAccount('ilmnuser', paths);
      expect(acct?.passwd.uid).toBe(1001);
      expect(acct?.shadow?.hash).toBe('!$6$x$y');
      expect(await readLocalAccount('nobody-here', paths)).toBeUndefined();
      await expect(readLocalAccount('ilmnuser', { ...paths, shadowPath: join(dir, 'missing') })).rejects.toMatchObject({
        code: 'FP_LINUX_ACCOUNTS_UNREADABLE',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('passwordStatus follows pam_unix check_shadow_expiry', () => {
  const base = parseShadowLine('u:$6$s$h:20000:0:90:7:::')!;

  it('reports change and expiry dates', () => {
    const s = passwordStatus(base, day(20010));
    expect(s.passwordChanged).toEqual(day(20000));
    expect(s.passwordExpires).toEqual(day(20090));
    expect(s).toMatchObject({
      passwordLocked: false,
      hasPassword: true,
      mustChange: false,
      accountExpired: false,
      passwordInactive: false,
    });
  });

  it('requires a change after max days, and locks out after the inactive grace', () => {
    expect(passwordStatus(base, day(20090)).mustChange).toBe(false);
    expect(passwordStatus(base, day(20091)).mustChange).toBe(true);
    const withInactive = { ...base, inactiveDays: 5 };
    expect(passwordStatus(withInactive, day(20095)).passwordInactive).toBe(false);
    expect(passwordStatus(withInactive, day(20096)).passwordInactive).toBe(true);
  });

  it('treats last change 0 as "must change now" and 99999 max days as never expiring', () => {
    expect(passwordStatus({ ...base, lastChangeDays: 0 }, day(20000)).mustChange).toBe(true);
    expect(passwordStatus({ ...base, maxDays: 99999 }, day(90000)).passwordExpires).toBeUndefined();
  });

  it('expires the account from its expiry day on', () => {
    const s = { ...base, expireDays: 20005 };
    expect(passwordStatus(s, new Date(20005 * DAY - 1)).accountExpired).toBe(false);
    expect(passwordStatus(s, day(20005)).accountExpired).toBe(true);
    expect(passwordStatus(s, day(20005)).accountExpires).toEqual(day(20005));
  });

  it('tells a locked password from a missing one', () => {
    expect(passwordStatus({ ...base, hash: '!$6$s$h' }, day(20001))).toMatchObject({
      passwordLocked: true,
      hasPassword: true,
    });
    expect(passwordStatus({ ...base, hash: '!' }, day(20001))).toMatchObject({
      passwordLocked: true,
      hasPassword: false,
    });
    expect(passwordStatus({ ...base, hash: '!*' }, day(20001))).toMatchObject({
      passwordLocked: true,
      hasPassword: false,
    });
    expect(passwordStatus({ ...base, hash: '*' }, day(20001))).toMatchObject({
      passwordLocked: false,
      hasPassword: false,
    });
  });
});
