/**
 * Juniper's documented recovery, done by the agent: with 128T running, set a one-time Linux password, sign
 * in to the SSR as the user with it, and change it through the SSR to the requested one, so the SSR's own
 * store holds it and a restart keeps it; then clear faillock and sign in with the new password to verify.
 *
 * Failure contract (every error names its step in `details.step`):
 * - before `linux-password` nothing has changed;
 * - if a step fails after the Linux password became the one-time password and before the SSR stored the new
 *   one, the Linux password is set to the requested one (the user can sign in, as after Juniper's `passwd`
 *   step), and the error says "set in Linux only; will be lost at the next SSR restart" (details.partial
 *   = "linux-only"). If even that fails, FP_SSR_RESET_INCOMPLETE says the account has an unknown password;
 * - after `ssr-change` the password is stored everywhere; a later failure says so.
 */
import { FleetpassError, isFleetpassError, type ErrorCode } from '../../../shared/errors';
import { LockReason } from '../../../shared/gen/fleetpass/v1/common';
import type { Logger } from '../../../shared/logger';
import type { ChangeResult } from '../backend';
import { assertSsrPasswordPolicy, generateSsrPassword } from '../../../shared/ssr-password-policy';
import type { SsrLinuxOps, SsrObservation } from './inspect-account';
import type { SsrRestClient } from './rest-client';

export type SsrResetStep =
  | 'policy-check'
  | 'service-check'
  | 'inspect'
  | 'ssr-preflight'
  | 'linux-password'
  | 'faillock-reset'
  | 'ssr-login'
  | 'ssr-change'
  | 'verify';

export const LINUX_ONLY_NOTE = 'set in Linux only; will be lost at the next SSR restart';
export const STORED_NOTE = 'stored in the SSR user store: it survives an SSR restart';
export const HA_NOTE = 'on an HA pair the other node keeps its own failed-login counter: unlock the account there too';

export interface ResetContext {
  readonly linux: SsrLinuxOps;
  readonly client: SsrRestClient;
  /** Inspects the account (Linux, service, store). */
  observe(account: string): Promise<SsrObservation>;
  readonly log: Logger;
}

/** Re-raises `e` as a FleetpassError that names `step`, keeping its code; an unknown error becomes `fallback`. */
function atStep(
  step: SsrResetStep,
  e: unknown,
  fallback: ErrorCode = 'FP_INTERNAL',
  suffix = '',
  extra: Record<string, unknown> = {},
): FleetpassError {
  const base = isFleetpassError(e) ? e : new FleetpassError(fallback, undefined, { cause: e });
  return new FleetpassError(base.code, `${base.message}${suffix}`, {
    cause: base.cause ?? e,
    details: { ...base.details, ...extra, step },
  });
}

/** Refusals that leave everything as it was. */
function checkBefore(account: string, observation: SsrObservation): void {
  const { state, service, store } = observation;
  if (!service.active) {
    throw new FleetpassError(
      'FP_SSR_SERVICE_DOWN',
      `128T is ${service.state} on this node: the password change would be lost when it starts; nothing was changed`,
      {
        details: { step: 'service-check', serviceState: service.state },
      },
    );
  }
  if (!state.exists)
    throw new FleetpassError('FP_ACCOUNT_NOT_FOUND', `there is no Linux account ${account} on this router`, {
      details: { step: 'inspect' },
    });
  if (store.status === 'absent') {
    throw new FleetpassError('FP_SSR_USER_NOT_LOCAL', `${account} is not in the SSR user store; nothing was changed`, {
      details: { step: 'ssr-preflight' },
    });
  }
  if (store.status === 'present' && store.user.authenticationType !== 'local') {
    throw new FleetpassError(
      'FP_SSR_USER_NOT_LOCAL',
      `${account} is an SSR user with ${store.user.authenticationType} authentication, whose password is not kept on the router; nothing was changed`,
      {
        details: { step: 'ssr-preflight' },
      },
    );
  }
  if (store.status === 'present' && !store.user.enabled) {
    throw new FleetpassError(
      'FP_SSR_USER_DISABLED',
      `the SSR user ${account} is disabled; enable it on the router first. Nothing was changed`,
      { details: { step: 'ssr-preflight' } },
    );
  }
}

/** Runs the reset; see the module comment for what each failure leaves behind. */
export async function resetSsrPassword(account: string, newPassword: string, ctx: ResetContext): Promise<ChangeResult> {
  const log = ctx.log.child({ account, operation: 'ssr-reset' });
  if (!newPassword) throw new FleetpassError('FP_SECRET_MISSING', undefined, { details: { step: 'policy-check' } });
  assertSsrPasswordPolicy(newPassword);

  const before = await ctx.observe(account);
  checkBefore(account, before);
  try {
    // Proves the address and the certificate before anything changes (the store lookup may be turned off).
    await ctx.client.probe();
  } catch (e) {
    throw atStep('ssr-preflight', e, 'FP_SSR_UNREACHABLE', '; nothing was changed');
  }

  const oneTime = generateSsrPassword({ avoid: newPassword });
  try {
    await ctx.linux.setPassword(account, oneTime);
  } catch (e) {
    throw atStep('linux-password', e, 'FP_COMMAND_FAILED', '; the password was not changed');
  }
  log.info({ step: 'linux-password' }, 'ssr reset step done');

  let step: SsrResetStep = 'faillock-reset';
  try {
    // A locked account would be refused the one-time sign-in.
    await ctx.linux.resetFailureCounter(account);
    step = 'ssr-login';
    const token = await ctx.client.login(account, { password: oneTime });
    step = 'ssr-change';
    await ctx.client.changePassword(token, account, oneTime, newPassword);
  } catch (e) {
    log.warn({ step, code: isFleetpassError(e) ? e.code : 'FP_INTERNAL' }, 'ssr reset step failed');
    throw await fallBackToLinuxOnly(account, newPassword, step, e, ctx, log);
  }
  log.info({ step: 'ssr-change' }, 'ssr reset step done');

  const stored = '; the new password is stored in the SSR';
  try {
    await ctx.linux.resetFailureCounter(account);
  } catch (e) {
    throw atStep(
      'faillock-reset',
      e,
      'FP_COMMAND_FAILED',
      `${stored}, but the failed-login counter could not be cleared`,
    );
  }
  try {
    await ctx.client.login(account, { password: newPassword });
  } catch (e) {
    const refused = isFleetpassError(e) && e.code === 'FP_SSR_AUTH_FAILED';
    if (refused)
      throw new FleetpassError(
        'FP_SSR_VERIFY_FAILED',
        `signing in as ${account} with the new password failed after the SSR accepted it`,
        { cause: e, details: { step: 'verify' } },
      );
    throw atStep('verify', e, 'FP_SSR_UNREACHABLE', `${stored}, but signing in with it could not be tried`);
  }

  const after = (await ctx.observe(account)).state;
  if (after.locked && after.lockReasons.includes(LockReason.LOCK_REASON_TOO_MANY_FAILURES)) {
    throw new FleetpassError('FP_STILL_LOCKED', `${account} is still locked after the reset`, {
      details: { step: 'verify' },
    });
  }
  log.info({ step: 'verify' }, 'ssr reset done');
  return { before: before.state, after, notes: [STORED_NOTE, HA_NOTE] };
}

/**
 * The SSR did not take the new password: make the Linux password the requested one, so the user is not
 * left with a password nobody knows, and say plainly that it lasts only until the next SSR restart.
 */
async function fallBackToLinuxOnly(
  account: string,
  newPassword: string,
  step: SsrResetStep,
  cause: unknown,
  ctx: ResetContext,
  log: Logger,
): Promise<FleetpassError> {
  try {
    await ctx.linux.setPassword(account, newPassword);
  } catch (e) {
    log.error({ step, code: isFleetpassError(e) ? e.code : 'FP_INTERNAL' }, 'ssr reset fallback failed');
    return new FleetpassError(
      'FP_SSR_RESET_INCOMPLETE',
      `the reset of ${account} failed at ${step} and the Linux password could not be set to the requested one: the account has a random password nobody knows; retry the reset`,
      {
        cause,
        details: { step, partial: 'unknown-password', causeCode: isFleetpassError(cause) ? cause.code : undefined },
      },
    );
  }
  try {
    await ctx.linux.resetFailureCounter(account);
  } catch {
    // Best effort: the error below already tells the operator the reset did not complete.
  }
  log.warn({ step }, 'ssr reset fell back to linux only');
  return atStep(step, cause, 'FP_INTERNAL', `; the new password was ${LINUX_ONLY_NOTE}`, {
    partial: 'linux-only',
    notes: [LINUX_ONLY_NOTE],
  });
}
