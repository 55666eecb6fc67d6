/**
 * One observation of an SSR user: the Linux side (password, faillock) from the Linux backend, whether 128T
 * is running, and the user's entry in the SSR store (role, enabled). Read-only; it throws only when the
 * Linux side cannot be read at all.
 */
import { Backend, LockReason, type AccountState } from '../../../shared/gen/fleetpass/v1/common';
import type { SsrServiceState } from './service-check';
import type { UserLookup } from './user-store';

/** The Linux primitives the SSR backend needs, implemented by the Linux backend. */
export interface SsrLinuxOps {
  inspect(account: string): Promise<AccountState>;
  /** chpasswd with the password on stdin. */
  setPassword(account: string, password: string): Promise<void>;
  /** Clears the pam_faillock counter of this node. */
  resetFailureCounter(account: string): Promise<void>;
}

export interface SsrObservation {
  readonly state: AccountState;
  readonly service: SsrServiceState;
  readonly store: UserLookup;
}

/** Folds the service state and the store entry into the Linux state; a disabled SSR user is locked. */
export function ssrAccountState(linux: AccountState, service: SsrServiceState, store: UserLookup): AccountState {
  const details: Record<string, string> = { ...linux.details, 'ssr.service': service.state, 'ssr.store': store.status };
  const lockReasons = [...linux.lockReasons];
  let locked = linux.locked;
  let lockPermanent = linux.lockPermanent;
  if (store.status === 'present') {
    const { user } = store;
    details['ssr.role'] = user.roles.includes('admin') ? 'admin' : (user.roles[0] ?? 'user');
    details['ssr.enabled'] = String(user.enabled);
    details['ssr.authenticationType'] = user.authenticationType;
    if (!user.enabled) {
      locked = true;
      lockPermanent = true;
      if (!lockReasons.includes(LockReason.LOCK_REASON_DISABLED)) lockReasons.push(LockReason.LOCK_REASON_DISABLED);
    }
  } else if (store.status === 'unknown') {
    details['ssr.storeError'] = store.error.code;
  }
  return { ...linux, backend: Backend.BACKEND_SSR, locked, lockReasons, lockPermanent, details };
}
