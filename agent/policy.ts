/**
 * The agent's local policy: which accounts the controller may touch on this node and which actions on
 * each. It is the last word: an order outside it is refused with FP_POLICY_DENIED, whoever sent it.
 * root (by name, or any account whose uid is 0) is off unless `allowRoot`.
 */
import { FleetpassError } from '../shared/errors';
import { Action, Backend, actionToJSON, backendToJSON, type AccountState } from '../shared/gen/fleetpass/v1/common';
import type { AccountPolicy } from '../shared/gen/fleetpass/v1/agent';
import { ACTION_NAMES, BACKEND_NAMES, type AgentConfig } from './config';

export interface ManagedAccount {
  readonly backend: Backend;
  readonly account: string;
}

export interface Policy {
  readonly allowRoot: boolean;
  /** The policy as the hello carries it. */
  readonly accounts: readonly AccountPolicy[];
  /** True when `action` on `backend/account` is allowed (uid unknown: checked by name only). */
  allows(backend: Backend, account: string, action: Action): boolean;
  /** Throws FP_POLICY_DENIED unless allowed; `state` (when known) lets it refuse uid-0 accounts by uid. */
  check(backend: Backend, account: string, action: Action, state?: AccountState): void;
  /** Every account the agent manages (reports on), in config order. */
  managed(): readonly ManagedAccount[];
}

/** True when the observed state says the account is the superuser (uid 0), whatever its name. */
export function isSuperuser(account: string, state?: AccountState): boolean {
  return account === 'root' || state?.details?.['linux.uid'] === '0';
}

/** Compiles the `policy` section of the agent config. */
export function createPolicy(config: AgentConfig['policy']): Policy {
  const accounts: AccountPolicy[] = config.accounts.map((a) => ({
    backend: BACKEND_NAMES[a.backend],
    account: a.account,
    actions: [...new Set(a.actions.map((n) => ACTION_NAMES[n]))],
  }));
  const find = (backend: Backend, account: string) =>
    accounts.find((a) => a.backend === backend && a.account === account);

  function denial(backend: Backend, account: string, action: Action, state?: AccountState): string | undefined {
    const entry = find(backend, account);
    const what = `${actionName(action)} on ${backendName(backend)} account ${JSON.stringify(account)}`;
    if (!entry)
      return `local policy does not list ${backendName(backend)} account ${JSON.stringify(account)}: ${what} refused`;
    if (!entry.actions.includes(action)) return `local policy does not allow ${what}`;
    if (!config.allowRoot && isSuperuser(account, state))
      return `local policy does not allow touching a superuser (uid 0) account: ${what} refused`;
    return undefined;
  }

  return {
    allowRoot: config.allowRoot,
    accounts,
    allows: (backend, account, action) => denial(backend, account, action) === undefined,
    check(backend, account, action, state) {
      const why = denial(backend, account, action, state);
      if (why)
        throw new FleetpassError('FP_POLICY_DENIED', why, {
          details: { backend: backendName(backend), account, action: actionName(action) },
        });
    },
    managed: () => accounts.map((a) => ({ backend: a.backend, account: a.account })),
  };
}

/** "linux", "ssr", "lrm" for messages. */
export function backendName(b: Backend): string {
  return backendToJSON(b)
    .replace(/^BACKEND_/, '')
    .toLowerCase();
}

/** "unlock", "reset_password", "refresh_state" for messages. */
export function actionName(a: Action): string {
  return actionToJSON(a)
    .replace(/^ACTION_/, '')
    .toLowerCase();
}
