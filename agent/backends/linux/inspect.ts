/**
 * Inspects one Linux account without changing anything: the account files, the password lock and
 * aging, and what the node's PAM decides for the account's right password (lockout-verdict.ts),
 * combined into one AccountState observed at the injected clock's "now".
 */
import { AccountState, Backend, FailureCounter, LockReason } from '../../../shared/gen/fleetpass/v1/common';
import { assertAccountName } from '../../../shared/validation/account-name';
import { defaultLinuxContext, type LinuxContext } from './config';
import { NO_FAILURES, type FailureAssessment } from './failures';
import { judgeLockout, type LockoutVerdict } from './lockout-verdict';
import { passwordStatus, readLocalAccount, type LocalAccount, type PasswordStatus } from './shadow';

/** Everything an inspection learned; actions use it to decide what to change. */
export interface LinuxInspection {
  readonly state: AccountState;
  /** Undefined when the account does not exist. */
  readonly local?: LocalAccount;
  readonly password?: PasswordStatus;
  /** Undefined when the account does not exist. */
  readonly lockout?: LockoutVerdict;
  readonly failures: FailureAssessment;
}

const COUNTER_ENUM = {
  faillock: FailureCounter.FAILURE_COUNTER_FAILLOCK,
  tally2: FailureCounter.FAILURE_COUNTER_TALLY2,
  none: FailureCounter.FAILURE_COUNTER_NONE,
  unknown: FailureCounter.FAILURE_COUNTER_UNKNOWN,
} as const;

/** Inspects `account` and keeps the intermediate facts; throws only when the node cannot be read. */
export async function inspectLinux(account: string, ctx: LinuxContext): Promise<LinuxInspection> {
  const name = assertAccountName(account);
  const observed = ctx.clock.now();
  const local = await readLocalAccount(name, ctx.config);
  const common = { backend: Backend.BACKEND_LINUX, account: name, observed };
  if (!local) {
    return {
      state: AccountState.fromPartial({ ...common, exists: false, counter: FailureCounter.FAILURE_COUNTER_NONE }),
      failures: NO_FAILURES,
    };
  }

  const password = passwordStatus(local.shadow, observed);
  const lockout = await judgeLockout(local, ctx);
  const failures = lockout.failures;
  const reasons: LockReason[] = [];
  if (password.passwordLocked) reasons.push(LockReason.LOCK_REASON_PASSWORD_LOCKED);
  if (failures.locked) reasons.push(LockReason.LOCK_REASON_TOO_MANY_FAILURES);
  if (lockout.pamRefuses) reasons.push(LockReason.LOCK_REASON_PAM_REFUSES);
  if (password.accountExpired) reasons.push(LockReason.LOCK_REASON_ACCOUNT_EXPIRED);
  if (password.passwordInactive) reasons.push(LockReason.LOCK_REASON_PASSWORD_EXPIRED);
  const locked = reasons.length > 0;
  // Only a timed failure lock ends by itself; every other reason waits for an administrator.
  const permanent =
    locked && (failures.lockPermanent || reasons.some((r) => r !== LockReason.LOCK_REASON_TOO_MANY_FAILURES));

  const details: Record<string, string> = {
    'linux.uid': String(local.passwd.uid),
    'linux.has_password': String(password.hasPassword),
    ...lockout.details,
  };
  if (password.accountExpires) details['linux.account_expires'] = password.accountExpires.toISOString();
  if (lockout.adminExempt) details['linux.counter_exempt'] = 'true';

  const state = AccountState.fromPartial({
    ...common,
    counter: COUNTER_ENUM[lockout.counter],
    denyThreshold: lockout.deny,
    exists: true,
    locked,
    lockReasons: reasons,
    failureCount: failures.failures,
    lockEnds: failures.locked && !permanent ? failures.lockEnds : undefined,
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
export async function inspectLinuxAccount(
  account: string,
  ctx: LinuxContext = defaultLinuxContext(),
): Promise<AccountState> {
  return (await inspectLinux(account, ctx)).state;
}
