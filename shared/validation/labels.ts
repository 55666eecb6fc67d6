/**
 * Node labels an admin gives (enrollment tokens, `fleetpass nodes label`): the only labels a selector
 * matches, so they must be names a person can read and type back: at most 32, keys of letters, digits,
 * ".", "_", "/" or "-", values plain single-line text of at most 100 characters.
 */
import { FleetpassError } from '../errors';
import { textProblem } from './text';

export const MAX_LABELS = 32;
export const MAX_LABEL_TEXT = 100;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;

/** Returns a copy of `labels` when every label is acceptable; throws FP_INVALID_ARGUMENT naming the first problem. */
export function assertLabels(labels: Record<string, unknown>, holder = 'a node'): Record<string, string> {
  const entries = Object.entries(labels ?? {});
  if (entries.length > MAX_LABELS)
    throw new FleetpassError('FP_INVALID_ARGUMENT', `${holder} may carry at most ${MAX_LABELS} labels`);
  for (const [k, v] of entries) {
    if (!LABEL_KEY.test(k))
      throw new FleetpassError(
        'FP_INVALID_ARGUMENT',
        `the label key ${JSON.stringify(k.slice(0, 80))} must be 1-63 letters, digits, ".", "_", "/" or "-"`,
      );
    if (typeof v !== 'string') throw new FleetpassError('FP_INVALID_ARGUMENT', `the value of label ${k} must be text`);
    const problem = textProblem(`the value of label ${k}`, v, { max: MAX_LABEL_TEXT, singleLine: true });
    if (problem) throw new FleetpassError('FP_INVALID_ARGUMENT', problem);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
