/**
 * The contract every account backend implements (Linux now; SSR and LRM under the same interface).
 *
 * - `inspect` never changes anything; it throws only when the node cannot be read at all.
 * - `unlock` clears the failure counter and any password lock, and nothing else. It is idempotent:
 *   unlocking an unlocked account succeeds and changes nothing.
 * - `resetPassword` sets the password, then clears the counter and the lock, then inspects again and
 *   throws FP_STILL_LOCKED if the account is still locked. Applying it twice with the same password
 *   leaves the same end state, but the agent's journal prevents a replay from running it twice.
 * - Both return the state before and after, so the controller can show and audit the effect.
 * - Errors are FleetpassError with a registry code (FP_ACCOUNT_NAME_INVALID, FP_ACCOUNT_NOT_FOUND,
 *   FP_ACTION_UNSUPPORTED, FP_COMMAND_FAILED, FP_COMMAND_TIMEOUT, FP_STILL_LOCKED, ...). A multi-step
 *   backend names the step that failed in `details.step`. No secret ever appears in an error.
 * - Account names are validated (shared/validation/account-name) before they reach any command.
 */
import type { Action, AccountState, Backend } from '../../shared/gen/fleetpass/v1/common';

export type { AccountState } from '../../shared/gen/fleetpass/v1/common';

export interface BackendCapabilities {
  readonly backend: Backend;
  /** Actions this backend can perform (before local policy narrows them). */
  readonly actions: readonly Action[];
  /** One line for `fleetpass-agent check-config` and the hello. */
  readonly description: string;
}

export interface ResetOptions {
  /** The password is temporary: the user must change it at the next login (LRM; `chage -d 0` on Linux). */
  readonly temporary?: boolean;
}

export interface ChangeResult {
  readonly before: AccountState;
  readonly after: AccountState;
  /** Things the operator must know, e.g. "the user will be asked for a new password at next login". */
  readonly notes: readonly string[];
}

export interface AccountBackend {
  describe(): BackendCapabilities;
  inspect(account: string): Promise<AccountState>;
  unlock(account: string): Promise<ChangeResult>;
  /** `newPassword` is a secret: never log it, never put it in argv or the environment. */
  resetPassword(account: string, newPassword: string, options?: ResetOptions): Promise<ChangeResult>;
}
