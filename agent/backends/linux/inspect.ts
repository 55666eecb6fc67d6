/**
 * Inspects one Linux account without changing anything: the account files, the password lock and
 * aging, the node's lockout config and the failure counter it really uses, combined into one
 * AccountState observed at the injected clock's "now".
 */
import { AccountState, Backend, FailureCounter, LockReason } from '../../../shared/gen/fleetpass/v1/common';
import { assertAccountName } from '../../../shared/validation/account-name';
import { defaultLinuxContext, type LinuxContext } from './config';
import { assessFaillock, faillockPath, readFaillock } from './faillock';
import { NO_FAILURES, type FailureAssessment } from './failures';
import { readLockoutConfig, type LockoutConfig } from './pam-config';
import { isGroupMember, passwordStatus, readLocalAccount, type LocalAccount, type PasswordStatus } from './shadow';
import { assessTally2, readTallyRecord } from './tallylog';

/** Everything an inspection learned; actions use it to decide what to change. */
export interface LinuxInspection {
  readonly state: AccountState;
  /** Undefined when the account does not exist. */
  readonly local?: LocalAccount;
  readonly password?: PasswordStatus;
  readonly lockout: LockoutConfig;
  readonly failures: FailureAssessment;
}

const COUNTER_ENUM = {
  faillock: FailureCounter.FAILURE_COUNTER_FAILLOCK,
  tally2: FailureCounter.FAILURE_COUNTER_TALLY2,
  none: FailureCounter.FAILURE_COUNTER_NONE,
} as const;

/** Reads the lockout config with the context's paths and counter setting. */
export function readContextLockout(ctx: LinuxContext): Promise<LockoutConfig> {
  const c = ctx.config;
  return readLockoutConfig({ pamDir: c.pamDir, faillockConf: c.faillockConf, pamServices: c.pamServices, tallylogPath: c.tallylogPath }, c.counter);
}

/** Reads the failure counter of `local` as the node's PAM config says it is kept. */
export async function assessFailures(local: LocalAccount, lockout: LockoutConfig, ctx: LinuxContext): Promise<{ failures: FailureAssessment; adminExempt: boolean }> {
  const now = ctx.clock.now();
  if (lockout.counter === 'faillock') {
    const s = lockout.faillock;
    const isAdmin = local.passwd.uid === 0 || (s.adminGroup ? await isGroupMember(s.adminGroup, local.passwd, ctx.config.groupPath) : false);
    const records = await readFaillock(s.dir, local.passwd.name);
    return { failures: assessFaillock(records, s, isAdmin, now), adminExempt: isAdmin && !s.evenDenyRoot };
  }
  if (lockout.counter === 'tally2') {
    const rec = await readTallyRecord(lockout.tally2.file, local.passwd.uid);
    return { failures: assessTally2(rec, lockout.tally2, local.passwd.uid, now), adminExempt: local.passwd.uid === 0 && !lockout.tally2.evenDenyRoot };
  }
  return { failures: NO_FAILURES, adminExempt: false };
}

function denyOf(lockout: LockoutConfig): number {
  return lockout.counter === 'faillock' ? lockout.faillock.deny : lockout.counter === 'tally2' ? lockout.tally2.deny : 0;
}

function counterDetails(lockout: LockoutConfig, account: string): Record<string, string> {
  if (lockout.counter === 'faillock') {
    const s = lockout.faillock;
    return {
      'linux.counter_file': faillockPath(s.dir, account),
      'linux.unlock_time': s.unlockTime === 0 ? 'never' : String(s.unlockTime),
      'linux.fail_interval': String(s.failInterval),
    };
  }
  if (lockout.counter === 'tally2') {
    const s = lockout.tally2;
    return { 'linux.counter_file': s.file, 'linux.unlock_time': s.unlockTime === 0 ? 'never' : String(s.unlockTime) };
  }
  return {};
}

/** Inspects `account` and keeps the intermediate facts; throws only when the node cannot be read. */
export async function inspectLinux(account: string, ctx: LinuxContext): Promise<LinuxInspection> {
  const name = assertAccountName(account);
  const observed = ctx.clock.now();
  const lockout = await readContextLockout(ctx);
  const local = await readLocalAccount(name, ctx.config);
  const common = {
    backend: Backend.BACKEND_LINUX,
    account: name,
    observed,
    counter: COUNTER_ENUM[lockout.counter],
    denyThreshold: denyOf(lockout),
  };
  if (!local) {
    return { state: AccountState.fromPartial({ ...common, exists: false }), lockout, failures: NO_FAILURES };
  }

  const password = passwordStatus(local.shadow, observed);
  const { failures, adminExempt } = await assessFailures(local, lockout, ctx);
  const reasons: LockReason[] = [];
  if (password.passwordLocked) reasons.push(LockReason.LOCK_REASON_PASSWORD_LOCKED);
  if (failures.locked) reasons.push(LockReason.LOCK_REASON_TOO_MANY_FAILURES);
  if (password.accountExpired) reasons.push(LockReason.LOCK_REASON_ACCOUNT_EXPIRED);
  if (password.passwordInactive) reasons.push(LockReason.LOCK_REASON_PASSWORD_EXPIRED);
  const locked = reasons.length > 0;
  // Only a timed failure lock ends by itself; every other reason waits for an administrator.
  const permanent = locked && (failures.lockPermanent || reasons.some((r) => r !== LockReason.LOCK_REASON_TOO_MANY_FAILURES));

  const details: Record<string, string> = {
    'linux.uid': String(local.passwd.uid),
    'linux.has_password': String(password.hasPassword),
    ...counterDetails(lockout, name),
  };
  if (password.accountExpires) details['linux.account_expires'] = password.accountExpires.toISOString();
  if (adminExempt) details['linux.counter_exempt'] = 'true';
  if (lockout.warnings.length > 0) details['linux.config_warnings'] = lockout.warnings.join('; ');

  const state = AccountState.fromPartial({
    ...common,
    exists: true,
    locked,
    lockReasons: reasons,
    failureCount: failures.failures,
    lockEnds: failures.locked ? failures.lockEnds : undefined,
    lockPermanent: permanent,
    lastFailure: failures.lastFailure,
    lastFailureSource: failures.lastFailureSource,
    passwordChanged: password.passwordChanged,
    passwordExpires: password.passwordExpires,
    mustChangePassword: password.mustChange,
    details,
  });
  return { state, local, password, lockout, failures };
}

/** The state of one Linux account (exists=false when there is no such user); never changes anything. */
export async function inspectLinuxAccount(account: string, ctx: LinuxContext = defaultLinuxContext()): Promise<AccountState> {
  return (await inspectLinux(account, ctx)).state;
}
