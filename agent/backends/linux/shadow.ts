/**
 * Reads local accounts from /etc/passwd, /etc/shadow and /etc/group, and interprets the shadow aging
 * fields exactly as pam_unix does (check_shadow_expiry), so "expired" here means what a login sees.
 */
import { readFile } from 'node:fs/promises';
import { FleetpassError } from '../../../shared/errors';

const DAY_MS = 86_400_000;
/** chage prints "never" from this many max days on; such a password does not expire in practice. */
const NEVER_EXPIRES_DAYS = 10_000;

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

/** One /etc/shadow line; empty numeric fields are null (glibc reports them as -1). */
export interface ShadowEntry {
  readonly name: string;
  readonly hash: string;
  readonly lastChangeDays: number | null;
  readonly minDays: number | null;
  readonly maxDays: number | null;
  readonly warnDays: number | null;
  readonly inactiveDays: number | null;
  readonly expireDays: number | null;
}

export interface AccountFilePaths {
  readonly passwdPath: string;
  readonly shadowPath: string;
  readonly groupPath: string;
}

export interface LocalAccount {
  readonly passwd: PasswdEntry;
  /** Absent when the account has no shadow line (then it cannot log in with a password). */
  readonly shadow?: ShadowEntry;
}

function numberOrNull(field: string | undefined): number | null {
  if (field === undefined || field.trim() === '') return null;
  const n = Number(field);
  return Number.isInteger(n) && n >= 0 ? n : null;
}

/** Finds the passwd line for `name` (the first, as getpwnam does), or undefined. */
export function findPasswdEntry(text: string, name: string): PasswdEntry | undefined {
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || f[0] !== name) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    return { name, uid, gid, home: f[5], shell: f[6] };
  }
  return undefined;
}

/** Parses one shadow line; undefined when it is not a shadow line. */
export function parseShadowLine(line: string): ShadowEntry | undefined {
  const f = line.split(':');
  if (f.length < 8 || f[0] === '') return undefined;
  return {
    name: f[0],
    hash: f[1],
    lastChangeDays: numberOrNull(f[2]),
    minDays: numberOrNull(f[3]),
    maxDays: numberOrNull(f[4]),
    warnDays: numberOrNull(f[5]),
    inactiveDays: numberOrNull(f[6]),
    expireDays: numberOrNull(f[7]),
  };
}

/** Finds the shadow line for `name`, or undefined. */
export function findShadowEntry(text: string, name: string): ShadowEntry | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}:`)) continue;
    const entry = parseShadowLine(line);
    if (entry) return entry;
  }
  return undefined;
}

/** True when the user is in `group` (as primary group or listed member), as pam_modutil_user_in_group does. */
export function userInGroup(groupText: string, group: string, user: PasswdEntry): boolean {
  for (const line of groupText.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || f[0] !== group) continue;
    if (Number(f[2]) === user.gid) return true;
    return f[3]
      .split(',')
      .map((m) => m.trim())
      .includes(user.name);
  }
  return false;
}

async function readAccountFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new FleetpassError(
      'FP_LINUX_ACCOUNTS_UNREADABLE',
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        cause: e,
        details: { path },
      },
    );
  }
}

/** Reads one local account, or undefined when /etc/passwd has no such user. */
export async function readLocalAccount(name: string, paths: AccountFilePaths): Promise<LocalAccount | undefined> {
  const passwd = findPasswdEntry(await readAccountFile(paths.passwdPath), name);
  if (!passwd) return undefined;
  const shadow = findShadowEntry(await readAccountFile(paths.shadowPath), name);
  return { passwd, shadow };
}

/** Whether `name` is a member of `group`; false when the group file has no such group. */
export async function isGroupMember(group: string, user: PasswdEntry, groupPath: string): Promise<boolean> {
  return userInGroup(await readAccountFile(groupPath), group, user);
}

/** What the password hash and aging fields mean for a login at `now`. */
export interface PasswordStatus {
  /** The hash is locked with "!" (passwd -l, usermod -L). */
  readonly passwordLocked: boolean;
  /** A usable hash sits behind any "!" (so unlocking does not leave the account passwordless). */
  readonly hasPassword: boolean;
  readonly passwordChanged?: Date;
  readonly passwordExpires?: Date;
  readonly accountExpires?: Date;
  /** Past its expiry date: pam_unix returns PAM_ACCT_EXPIRED. */
  readonly accountExpired: boolean;
  /** Expired and past the inactive grace period: pam_unix returns PAM_AUTHTOK_EXPIRED; no login at all. */
  readonly passwordInactive: boolean;
  /** lastchg is 0 (chage -d 0) or max days passed: the user must choose a new password at login. */
  readonly mustChange: boolean;
}

/** False for markers that are not a password: empty, "*..." (including "*LK*"), "x" and other single characters. */
function isUsableHash(hash: string): boolean {
  return hash.length > 1 && !hash.startsWith('*');
}

/** Interprets a shadow entry the way pam_unix's check_shadow_expiry does (days since the epoch, UTC). */
export function passwordStatus(shadow: ShadowEntry | undefined, now: Date): PasswordStatus {
  if (!shadow) {
    return {
      passwordLocked: false,
      hasPassword: false,
      accountExpired: false,
      passwordInactive: false,
      mustChange: false,
    };
  }
  const curdays = Math.floor(now.getTime() / DAY_MS);
  const lockedHash = shadow.hash.startsWith('!');
  const hashBehindLock = shadow.hash.replace(/^!+/, '');
  const last = shadow.lastChangeDays;
  const max = shadow.maxDays;
  const inact = shadow.inactiveDays;
  const expire = shadow.expireDays;

  const accountExpired = expire !== null && curdays >= expire;
  const aging = last !== null && last > 0 && curdays >= last && max !== null;
  const passwordInactive = aging && inact !== null && curdays - last! > max! + inact;
  const mustChange = last === 0 || (aging && curdays - last! > max!);
  const expires =
    last !== null && last > 0 && max !== null && max < NEVER_EXPIRES_DAYS ? new Date((last + max) * DAY_MS) : undefined;
  return {
    passwordLocked: lockedHash,
    hasPassword: isUsableHash(hashBehindLock),
    passwordChanged: last !== null && last > 0 ? new Date(last * DAY_MS) : undefined,
    passwordExpires: expires,
    accountExpires: expire !== null ? new Date(expire * DAY_MS) : undefined,
    accountExpired,
    passwordInactive,
    mustChange,
  };
}
