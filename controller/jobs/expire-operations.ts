/** Job: expire operations that did not happen in time, and retry sending approved ones to connected nodes. */
import type { Dispatcher } from '../dispatch';

export interface ExpireDeps {
  dispatcher: Pick<Dispatcher, 'expireDue' | 'retryApproved'>;
}

/** Returns how many operations expired; a retry failure is logged by dispatch and retried next run. */
export async function expireOperations(deps: ExpireDeps): Promise<{ expired: number; retryFailed: boolean }> {
  const expired = await deps.dispatcher.expireDue();
  const err = await deps.dispatcher.retryApproved();
  return { expired, retryFailed: !!err };
}
