/** Turns what LRM reports about a user into the common AccountState (counter = the application's own). */
import { AccountState, Backend, FailureCounter, LockReason } from '../../../shared/gen/fleetpass/v1/common';
import type { LrmSecuritySettings, LrmUser } from './client';
import type { LrmVersion } from './version';

const DAY_MS = 86_400_000;

/** State of a user LRM knows. LRM locks end only when an administrator unlocks, so a lock is permanent. */
export function lrmUserState(
  user: LrmUser,
  version: LrmVersion,
  settings: LrmSecuritySettings | undefined,
  now: Date,
): AccountState {
  const disabled = user.disabled === true;
  const lockReasons: LockReason[] = [];
  if (user.locked) lockReasons.push(LockReason.LOCK_REASON_TOO_MANY_FAILURES);
  if (disabled) lockReasons.push(LockReason.LOCK_REASON_DISABLED);
  const changed = user.passwordLastChanged ? new Date(user.passwordLastChanged) : undefined;
  let expires = user.passwordExpires ? new Date(user.passwordExpires) : undefined;
  if (!expires && user.passwordExpires === undefined && changed && settings?.passwordExpiryDays) {
    expires = new Date(changed.getTime() + settings.passwordExpiryDays * DAY_MS);
  }
  const details: Record<string, string> = { 'lrm.version': version.text };
  if (user.role) details['lrm.role'] = user.role;
  if (disabled) details['lrm.disabled'] = 'true';
  // An expired LRM password does not lock the account: LRM asks for a new one at the next login.
  if (expires && expires.getTime() <= now.getTime()) details['lrm.password_expired'] = 'true';
  return AccountState.fromPartial({
    backend: Backend.BACKEND_LRM,
    account: user.username,
    exists: true,
    locked: user.locked || disabled,
    lockReasons,
    failureCount: user.failedLoginAttempts ?? 0,
    denyThreshold: user.allowedLoginAttempts ?? settings?.allowedLoginAttempts ?? 0,
    lockPermanent: user.locked || disabled,
    passwordChanged: changed,
    passwordExpires: expires,
    observed: now,
    counter: FailureCounter.FAILURE_COUNTER_APPLICATION,
    mustChangePassword: user.mustChangePassword === true,
    details,
  });
}

/** State of a user LRM does not know. */
export function lrmMissingState(account: string, version: LrmVersion, now: Date): AccountState {
  return AccountState.fromPartial({
    backend: Backend.BACKEND_LRM,
    account,
    exists: false,
    observed: now,
    counter: FailureCounter.FAILURE_COUNTER_APPLICATION,
    details: { 'lrm.version': version.text },
  });
}

/**
 * What inspect can say when actions are not possible (LRM 3.x or older, or version unreadable): nothing
 * about the user, because no request beyond the version read is sent. `lrm.exists` is "unknown".
 */
export function lrmUnknownState(
  account: string,
  version: LrmVersion | undefined,
  now: Date,
  support: string,
): AccountState {
  const details: Record<string, string> = { 'lrm.exists': 'unknown', 'lrm.support': support };
  if (version) details['lrm.version'] = version.text;
  return AccountState.fromPartial({
    backend: Backend.BACKEND_LRM,
    account,
    exists: false,
    observed: now,
    counter: FailureCounter.FAILURE_COUNTER_APPLICATION,
    details,
  });
}
