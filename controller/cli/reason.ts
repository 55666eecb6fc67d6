/**
 * `--reason`, which every change takes. A plain option checked here rather than commander's
 * requiredOption: a missing or blank reason is then one line with the admin API's own code
 * (FP_REASON_REQUIRED, exit 2), not commander's usage text, and nothing is asked of the controller.
 */
import { UsageError } from '../../shared/usage-error';

export const REASON_HELP = 'ticket number or free text; required, stored and audited';

/** The reason as given; throws the FP_REASON_REQUIRED usage error when it is missing or blank. */
export function requireReason(reason: string | undefined): string {
  if (!reason?.trim())
    throw new UsageError(
      '--reason is required: a ticket number or free text (stored and audited)',
      'FP_REASON_REQUIRED',
    );
  return reason;
}
