/**
 * The rules every change request obeys, whoever builds it (operators through the admin layer, escrow
 * rotation, tests): one function, so the admin layer's early check and dispatch's last line of defence
 * refuse the same things with the same words.
 */
import { FleetpassError } from '../../shared/errors';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { assertAccountName } from '../../shared/validation/account-name';
import { textProblem } from '../../shared/validation/text';

export const MAX_REASON_LENGTH = 500;
/** The longest an operation may wait for its node. */
export const MAX_TTL_SECONDS = 7 * 86_400;

/** Every action a change request may carry (the admin layer narrows it for operators). */
export const REQUEST_ACTIONS: ReadonlySet<Action> = new Set([
  Action.ACTION_UNLOCK,
  Action.ACTION_RESET_PASSWORD,
  Action.ACTION_REFRESH_STATE,
]);
const BACKENDS: ReadonlySet<Backend> = new Set([Backend.BACKEND_LINUX, Backend.BACKEND_SSR, Backend.BACKEND_LRM]);

const ACTION_WORD: Partial<Record<Action, string>> = {
  [Action.ACTION_UNLOCK]: 'unlock',
  [Action.ACTION_RESET_PASSWORD]: 'reset-password',
  [Action.ACTION_REFRESH_STATE]: 'refresh-state',
};

export interface RequestShape {
  reason: string;
  backend: Backend;
  account: string;
  action: Action;
  /** 0 or undefined: the controller default. */
  ttlSeconds?: number;
  temporary?: boolean;
}

function either(words: string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** Throws the FleetpassError naming the first problem with the request's shape (nodes and secrets not included). */
export function assertRequestShape(input: RequestShape, actions: ReadonlySet<Action> = REQUEST_ACTIONS): void {
  const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
  if (!reason) throw new FleetpassError('FP_REASON_REQUIRED');
  const problem = textProblem('the reason', reason, { max: MAX_REASON_LENGTH });
  if (problem) throw new FleetpassError('FP_INVALID_ARGUMENT', problem);
  if (!BACKENDS.has(input.backend))
    throw new FleetpassError('FP_INVALID_ARGUMENT', 'choose the backend: linux, ssr or lrm');
  if (!actions.has(input.action))
    throw new FleetpassError(
      'FP_INVALID_ARGUMENT',
      `the action must be ${either([...actions].map((a) => ACTION_WORD[a] ?? String(a)))}`,
    );
  assertAccountName(input.account);
  const ttl = input.ttlSeconds ?? 0;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS)
    throw new FleetpassError(
      'FP_INVALID_ARGUMENT',
      `the wait for offline nodes must be 0 to ${MAX_TTL_SECONDS} seconds`,
    );
  if (input.temporary && input.backend !== Backend.BACKEND_LRM)
    throw new FleetpassError('FP_INVALID_ARGUMENT', 'only Local Run Manager accounts take a temporary password');
}
