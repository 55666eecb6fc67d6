/**
 * The Linux AccountBackend: inspect, unlock (clear the counter and the password lock, nothing else) and
 * reset password (chpasswd, then the same clearing, then verify), built from the primitives in actions.ts.
 */
import { FleetpassError } from '../../../shared/errors';
import { Action, Backend, LockReason, type AccountState } from '../../../shared/gen/fleetpass/v1/common';
import { assertAccountName } from '../../../shared/validation/account-name';
import type { AccountBackend, BackendCapabilities, ChangeResult, ResetOptions } from '../backend';
import {
  assertPasswordUsable,
  forcePasswordChange,
  removePasswordLock,
  resetFailureCounter,
  setLinuxPassword,
} from './actions';
import { createLinuxContext, type LinuxBackendOptions, type LinuxContext } from './config';
import { inspectLinux, inspectLinuxAccount } from './inspect';

const REASON_WORDS: Record<LockReason, string> = {
  [LockReason.LOCK_REASON_UNSPECIFIED]: 'unknown',
  [LockReason.LOCK_REASON_PASSWORD_LOCKED]: 'password locked',
  [LockReason.LOCK_REASON_TOO_MANY_FAILURES]: 'too many failed logins',
  [LockReason.LOCK_REASON_DISABLED]: 'disabled',
  [LockReason.LOCK_REASON_ACCOUNT_EXPIRED]: 'account expired',
  [LockReason.LOCK_REASON_PASSWORD_EXPIRED]: 'password expired past its grace period',
  [LockReason.LOCK_REASON_PAM_REFUSES]: 'PAM refuses every login',
  [LockReason.UNRECOGNIZED]: 'unknown',
};

/** Human words for lock reasons, for notes and error messages. */
export function describeLockReasons(reasons: readonly LockReason[]): string {
  return reasons.map((r) => REASON_WORDS[r] ?? 'unknown').join(', ');
}

/** Reasons unlock is responsible for; expiry is outside it ("nothing else"). */
const UNLOCKABLE = new Set([LockReason.LOCK_REASON_PASSWORD_LOCKED, LockReason.LOCK_REASON_TOO_MANY_FAILURES]);

function stillLocked(after: AccountState, step: string): FleetpassError {
  return new FleetpassError(
    'FP_STILL_LOCKED',
    `the account "${after.account}" is still locked after ${step}: ${describeLockReasons(after.lockReasons)}`,
    {
      details: { account: after.account, reasons: after.lockReasons.map((r) => LockReason[r]) },
    },
  );
}

async function existing(account: string, ctx: LinuxContext) {
  const inspection = await inspectLinux(account, ctx);
  if (!inspection.state.exists) {
    throw new FleetpassError(
      'FP_ACCOUNT_NOT_FOUND',
      `the account "${inspection.state.account}" does not exist on this node`,
      { details: { account: inspection.state.account } },
    );
  }
  return inspection;
}

/** What neither unlock nor reset can change, in words for the result notes (PAM's own refusal, an unreadable layout). */
function cannotFix(after: AccountState): string[] {
  const out: string[] = [];
  const refuses = after.details['linux.pam_refuses'];
  if (refuses)
    out.push(
      `cannot fix: PAM refuses every login (${refuses}); the PAM configuration must be repaired on the node (fleetpass-agent doctor shows where)`,
    );
  const unknown = after.details['linux.counter_unknown'];
  if (unknown)
    out.push(`cannot confirm the account is usable: ${unknown} (every counter the login services name was cleared)`);
  return out;
}

/** Clears the failure counter and the password lock; idempotent (an unlocked account is left as it is). */
export async function unlockLinuxAccount(account: string, ctx: LinuxContext): Promise<ChangeResult> {
  const name = assertAccountName(account);
  const { state: before, password } = await existing(name, ctx);
  // Refuse before changing anything when the lock cannot be removed without leaving no password.
  if (password?.passwordLocked && !password.hasPassword) {
    throw new FleetpassError(
      'FP_LINUX_NO_PASSWORD',
      `the account "${name}" is locked and has no password behind the lock; reset its password instead`,
      { details: { account: name } },
    );
  }
  const notes: string[] = [];
  const cleared = await resetFailureCounter(name, ctx);
  if (cleared > 0) notes.push(`cleared ${cleared} failed login${cleared === 1 ? '' : 's'}`);
  if (await removePasswordLock(name, ctx)) notes.push('removed the password lock');
  const after = await inspectLinuxAccount(name, ctx);
  if (after.lockReasons.some((r) => UNLOCKABLE.has(r))) throw stillLocked(after, 'unlock');
  notes.push(...cannotFix(after));
  const expiry = after.lockReasons.filter(
    (r) => r === LockReason.LOCK_REASON_ACCOUNT_EXPIRED || r === LockReason.LOCK_REASON_PASSWORD_EXPIRED,
  );
  if (expiry.length > 0)
    notes.push(
      `still not usable: ${describeLockReasons(expiry)} (unlock does not change expiry; reset the password or extend the account)`,
    );
  if (cleared === 0 && !before.lockReasons.includes(LockReason.LOCK_REASON_PASSWORD_LOCKED))
    notes.push('nothing to unlock: no failed logins and no password lock');
  ctx.log.info({ account: name, action: 'unlock', cleared, locked: after.locked }, 'account unlocked');
  return { before, after, notes };
}

/** Sets a new password, clears the counter and the lock, and verifies the account is usable (else FP_STILL_LOCKED). */
export async function resetLinuxPassword(
  account: string,
  newPassword: string,
  options: ResetOptions,
  ctx: LinuxContext,
): Promise<ChangeResult> {
  const name = assertAccountName(account);
  assertPasswordUsable(newPassword);
  const { state: before } = await existing(name, ctx);
  const notes: string[] = ['password set'];
  await setLinuxPassword(name, newPassword, ctx);
  if (options.temporary) {
    await forcePasswordChange(name, ctx);
    notes.push('the user must choose a new password at the next login');
  }
  const cleared = await resetFailureCounter(name, ctx);
  if (cleared > 0) notes.push(`cleared ${cleared} failed login${cleared === 1 ? '' : 's'}`);
  if (await removePasswordLock(name, ctx)) notes.push('removed the password lock');
  const after = await inspectLinuxAccount(name, ctx);
  if (after.locked) {
    const e = stillLocked(after, 'the password reset');
    const why = cannotFix(after);
    throw why.length > 0
      ? new FleetpassError('FP_STILL_LOCKED', `${e.message}; ${why.join('; ')}`, { details: e.details })
      : e;
  }
  notes.push(...cannotFix(after));
  ctx.log.info(
    { account: name, action: 'reset_password', temporary: Boolean(options.temporary), cleared },
    'password reset',
  );
  return { before, after, notes };
}

/** Creates the Linux backend for this node; options.config is validated (FP_CONFIG_INVALID). */
export function createLinuxBackend(options: LinuxBackendOptions = {}): AccountBackend {
  const ctx = createLinuxContext(options);
  const capabilities: BackendCapabilities = {
    backend: Backend.BACKEND_LINUX,
    actions: [Action.ACTION_UNLOCK, Action.ACTION_RESET_PASSWORD, Action.ACTION_REFRESH_STATE],
    description:
      `Linux local accounts (chpasswd, ${ctx.config.unlockCommand === 'usermod' ? 'usermod -U' : 'passwd -u'}); failure counter: ` +
      (ctx.config.counter === 'auto' ? `detected from ${ctx.config.pamDir}` : ctx.config.counter),
  };
  return {
    describe: () => capabilities,
    inspect: (account) => inspectLinuxAccount(account, ctx),
    unlock: (account) => unlockLinuxAccount(account, ctx),
    resetPassword: (account, newPassword, opts) => resetLinuxPassword(account, newPassword, opts ?? {}, ctx),
  };
}
