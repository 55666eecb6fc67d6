/**
 * The Linux account primitives, each one small change: set the password (chpasswd, secret on stdin),
 * clear the failure counter, remove the password lock, force a change at next login. Each validates the
 * name and checks the account exists before touching anything. The SSR backend reuses these.
 */
import { FleetpassError } from '../../../shared/errors';
import { assertAccountName } from '../../../shared/validation/account-name';
import { defaultLinuxContext, type LinuxContext } from './config';
import { readFaillock, resetFaillock } from './faillock';
import { judgeLockout } from './lockout-verdict';
import { passwordStatus, readLocalAccount, type LocalAccount } from './shadow';
import { readTallyRecord, resetTallyRecord } from './tallylog';

/** chpasswd reads one line per account; longer input is surely a mistake. */
export const MAX_PASSWORD_LENGTH = 512;

/** Throws FP_SECRET_MISSING / FP_PASSWORD_POLICY when `password` cannot be passed to chpasswd safely. */
export function assertPasswordUsable(password: unknown): string {
  if (typeof password !== 'string' || password.length === 0) throw new FleetpassError('FP_SECRET_MISSING');
  if (/[\r\n\0]/.test(password)) {
    throw new FleetpassError('FP_PASSWORD_POLICY', 'the password may not contain line breaks or NUL characters');
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new FleetpassError('FP_PASSWORD_POLICY', `the password is longer than ${MAX_PASSWORD_LENGTH} characters`);
  }
  return password;
}

/** Validates the name and reads the account; FP_ACCOUNT_NOT_FOUND when /etc/passwd has no such user. */
export async function requireLocalAccount(account: string, ctx: LinuxContext): Promise<LocalAccount> {
  const name = assertAccountName(account);
  const local = await readLocalAccount(name, ctx.config);
  if (!local)
    throw new FleetpassError('FP_ACCOUNT_NOT_FOUND', `the account "${name}" does not exist on this node`, {
      details: { account: name },
    });
  return local;
}

/** Sets the password with `chpasswd`, "name:password" on stdin; the password never reaches argv, env, logs or errors. */
export async function setLinuxPassword(
  account: string,
  password: string,
  ctx: LinuxContext = defaultLinuxContext(),
): Promise<void> {
  const secret = assertPasswordUsable(password);
  const local = await requireLocalAccount(account, ctx);
  await ctx.run('chpasswd', [], { input: `${local.passwd.name}:${secret}\n`, redact: [secret] });
  ctx.log.info({ account: local.passwd.name, command: 'chpasswd' }, 'password set');
}

/** Requires a new password at the next login (`chage -d 0`). */
export async function forcePasswordChange(account: string, ctx: LinuxContext = defaultLinuxContext()): Promise<void> {
  const local = await requireLocalAccount(account, ctx);
  await ctx.run('chage', ['-d', '0', '--', local.passwd.name]);
  ctx.log.info({ account: local.passwd.name, command: 'chage' }, 'password change required at next login');
}

/**
 * Clears every failed-login counter the node's login services use (each pam_faillock directory and
 * pam_tally2 file they name). Returns the number of failures that were on record (0: nothing was
 * there, nothing was written).
 */
export async function resetFailureCounter(account: string, ctx: LinuxContext = defaultLinuxContext()): Promise<number> {
  const local = await requireLocalAccount(account, ctx);
  const name = local.passwd.name;
  const lockout = await judgeLockout(local, ctx);
  let cleared = 0;
  for (const dir of lockout.faillockDirs) {
    const records = await readFaillock(dir, name);
    if (records.length === 0) continue;
    await resetFaillock(dir, name, ctx.run);
    const n = records.filter((r) => r.valid).length;
    ctx.log.info({ account: name, counter: 'faillock', dir, cleared: n }, 'failure counter cleared');
    cleared += n;
  }
  for (const file of lockout.tallyFiles) {
    const path = file;
    const rec = await readTallyRecord(path, local.passwd.uid);
    if (!rec || (rec.failCount === 0 && rec.failTime === 0 && rec.failLine === '')) continue;
    await resetTallyRecord(path, local.passwd.uid, name, ctx.run);
    ctx.log.info({ account: name, counter: 'tally2', file: path, cleared: rec.failCount }, 'failure counter cleared');
    cleared += rec.failCount;
  }
  return cleared;
}

/**
 * Removes a "!" password lock (`passwd -u`, or `usermod -U`). Returns false when there was none. Throws
 * FP_LINUX_NO_PASSWORD when no password sits behind the lock, rather than leave the account passwordless.
 */
export async function removePasswordLock(account: string, ctx: LinuxContext = defaultLinuxContext()): Promise<boolean> {
  const local = await requireLocalAccount(account, ctx);
  const name = local.passwd.name;
  const status = passwordStatus(local.shadow, ctx.clock.now());
  if (!status.passwordLocked) return false;
  if (!status.hasPassword) {
    throw new FleetpassError(
      'FP_LINUX_NO_PASSWORD',
      `the account "${name}" is locked and has no password behind the lock; reset its password instead`,
      { details: { account: name } },
    );
  }
  if (ctx.config.unlockCommand === 'usermod') await ctx.run('usermod', ['-U', '--', name]);
  else await ctx.run('passwd', ['-u', '--', name]);
  ctx.log.info({ account: name, command: ctx.config.unlockCommand }, 'password lock removed');
  return true;
}
