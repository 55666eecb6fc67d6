/**
 * Walks an auth chain the way libpam's _pam_dispatch_aux (libpam/pam_dispatch.c) does for
 * pam_authenticate (a chain being frozen, so cached and real return values are the same): required /
 * requisite / sufficient / optional and [value=action] controls, jumps, substacks (their own impression
 * and status, jumps and "done" confined to them), and the final sanity check. A module whose result is
 * not known for sure offers several return codes; every combination is walked, so a verdict holds only
 * when all of them agree.
 */
import {
  ACTION_BAD,
  ACTION_DIE,
  ACTION_DONE,
  ACTION_IGNORE,
  ACTION_OK,
  ACTION_RESET,
  PAM_IGNORE,
  PAM_MUST_FAIL_CODE,
  PAM_SUCCESS,
  RETURN_VALUES,
} from './codes';
import type { PamHandler } from './service-loader';

/** What a module would return, and why (for doctor). */
export interface ModuleOutcome {
  readonly code: number;
  readonly why: string;
}

/** The possible outcomes of calling `h` (one when certain). */
export type ModuleOracle = (h: PamHandler) => readonly ModuleOutcome[];

export interface DispatchStep {
  readonly handler: PamHandler;
  readonly outcome: ModuleOutcome;
}

export interface DispatchRun {
  /** PAM_SUCCESS when the login is accepted. */
  readonly status: number;
  /** The modules called, in order, with what each returned. */
  readonly steps: readonly DispatchStep[];
  /** The step whose action decided the result (the first "bad"/"die" for a refusal); undefined for success. */
  readonly decidedBy?: DispatchStep;
}

/** Paths walked at most; beyond this the verdict is "unknown". */
export const MAX_RUNS = 512;

const UNDEF = 0;
const POSITIVE = 1;
const NEGATIVE = 2;

/** One walk with the given choice per uncertain module; reports the arity of each choice point met. */
function walk(
  chain: readonly PamHandler[],
  oracle: ModuleOracle,
  choices: readonly number[],
  arities: number[],
): DispatchRun {
  const steps: DispatchStep[] = [];
  let decidedBy: DispatchStep | undefined;
  let impression = UNDEF;
  let status = PAM_MUST_FAIL_CODE;
  const sub: Array<{ impression: number; status: number }> = [{ impression, status }];
  let prevLevel = 0;
  let choice = 0;
  for (let i = 0; i < chain.length; i++) {
    const h = chain[i];
    const level = h.stackLevel;
    if (prevLevel < level) sub[level] = { impression, status };
    prevLevel = level;
    let outcome: ModuleOutcome;
    if (h.kind === 'substack') continue;
    if (h.kind === 'must_fail') {
      outcome = { code: PAM_MUST_FAIL_CODE, why: `libpam fails this entry: ${h.problem ?? 'bad line'}` };
    } else {
      const options = oracle(h);
      const k = choice++;
      if (arities.length <= k) arities.push(options.length);
      outcome = options[Math.min(choices[k] ?? 0, options.length - 1)];
    }
    const step = { handler: h, outcome };
    steps.push(step);
    const retval = outcome.code;
    const action = retval < PAM_SUCCESS || retval >= RETURN_VALUES ? ACTION_BAD : h.actions[retval];
    let decided = false;
    switch (action) {
      case ACTION_RESET:
        impression = sub[level].impression;
        status = sub[level].status;
        break;
      case ACTION_OK:
      case ACTION_DONE:
        if (impression === UNDEF || (impression === POSITIVE && status === PAM_SUCCESS)) {
          if (retval !== PAM_IGNORE) {
            impression = POSITIVE;
            status = retval;
          }
        }
        if (impression === POSITIVE && action === ACTION_DONE) decided = true;
        break;
      case ACTION_BAD:
      case ACTION_DIE:
        if (impression !== NEGATIVE) {
          impression = NEGATIVE;
          status = retval === PAM_IGNORE ? PAM_MUST_FAIL_CODE : retval;
          decidedBy = step;
        }
        if (action === ACTION_DIE) decided = true;
        break;
      case ACTION_IGNORE:
        break;
      default: {
        let jump = action;
        if (jump > 0) {
          // Skip `jump` entries of this level (a substack counts as one entry).
          while (i + 1 < chain.length && chain[i + 1].stackLevel >= level && jump > 0) {
            do {
              i++;
            } while (i + 1 < chain.length && chain[i + 1].stackLevel > level);
            jump--;
          }
        }
        if (jump) {
          // "bad jump in stack": a jump past the end can never succeed.
          impression = NEGATIVE;
          status = PAM_MUST_FAIL_CODE;
          decidedBy ??= {
            handler: h,
            outcome: {
              code: retval,
              why: `${outcome.why}; its jump goes past the end of the stack, which libpam treats as a failure`,
            },
          };
        }
      }
    }
    if (decided) {
      // decision_made: skip the rest of this level (and deeper).
      while (i + 1 < chain.length && chain[i + 1].stackLevel >= level) i++;
    }
  }
  if (status === PAM_SUCCESS && impression !== POSITIVE) status = PAM_MUST_FAIL_CODE;
  return { status, steps, decidedBy: status === PAM_SUCCESS ? undefined : decidedBy };
}

/** Every distinct walk of `chain` (one per combination of uncertain outcomes), or undefined past MAX_RUNS. */
export function dispatchAll(chain: readonly PamHandler[], oracle: ModuleOracle): DispatchRun[] | undefined {
  const runs: DispatchRun[] = [];
  let choices: number[] = [];
  for (;;) {
    if (runs.length >= MAX_RUNS) return undefined;
    const arities: number[] = [];
    runs.push(walk(chain, oracle, choices, arities));
    // Odometer over the choice points this walk met (later points may differ between walks).
    const next = arities.map((_, k) => choices[k] ?? 0);
    let k = next.length - 1;
    while (k >= 0 && next[k] + 1 >= arities[k]) k--;
    if (k < 0) return runs;
    next[k]++;
    choices = next.slice(0, k + 1);
  }
}
