/**
 * The verdict of one login service for one account with the right password: the chain walked with the
 * module models, once with the counters as they are and once with them cleared, so a refusal is either
 * the counters' (a lock that unlock clears) or PAM's own (it refuses every login: missing conf= file,
 * world-writable tallylog, a required module that is missing, an include that cannot be opened...).
 */
import { returnName, PAM_SUCCESS } from './codes';
import { dispatchAll, type DispatchRun } from './dispatch';
import { COUNTER_LOCK, moduleOutcomes, type ModelContext } from './module-models';
import type { LoadedService, PamHandler } from './service-loader';

export type Verdict = 'accepts' | 'refuses' | 'unknown';

/** A failure counter line the accepted or refused walk reached. */
export interface CounterUse {
  readonly kind: 'faillock' | 'tally2';
  readonly where: string;
  readonly deny: number;
  /** Root (or admin_group) without even_deny_root: this counter never locks the account. */
  readonly exempt: boolean;
  /** Seconds; 0 = never. */
  readonly unlockTime: number;
  readonly failInterval?: number;
  readonly failures: number;
  readonly locked: boolean;
  readonly lockEnds?: Date;
  readonly permanent: boolean;
  readonly lastFailure?: Date;
  readonly lastFailureSource: string;
  /** pam_faillock's directory or pam_tally2's file. */
  readonly store: string;
  /** The settings in force and where each came from, for doctor. */
  readonly settingsText: string;
  readonly handler: PamHandler;
}

export interface ServiceVerdict {
  readonly service: string;
  readonly verdict: Verdict;
  /** For refusals: the counters (unlock clears them) or PAM itself (it refuses every login). */
  readonly cause?: 'counter' | 'pam';
  /** One sentence: why. */
  readonly why: string;
  /** The line that decided ("file:line: text"). */
  readonly decidedBy?: string;
  /** Counter lines reached (in the first walk with the counters as they are). */
  readonly counters: readonly CounterUse[];
  /** The first walk, step by step, for doctor. */
  readonly steps: ReadonlyArray<{
    readonly where: string;
    readonly text: string;
    readonly result: string;
    readonly why: string;
  }>;
}

export interface CounterFacts {
  /** Counter state of a handler's line, when it is a counter line (for CounterUse). */
  counterUse(h: PamHandler): Omit<CounterUse, 'handler' | 'where'> | undefined;
}

const where = (h: PamHandler) => `${h.file}:${h.lineNo}`;

function stepsOf(run: DispatchRun): ServiceVerdict['steps'] {
  return run.steps.map((s) => ({
    where: where(s.handler),
    text: s.handler.text,
    result: returnName(s.outcome.code),
    why: s.outcome.why,
  }));
}

function decided(run: DispatchRun): string | undefined {
  const d = run.decidedBy;
  return d ? `${where(d.handler)}: ${d.handler.text}` : undefined;
}

function because(run: DispatchRun): string {
  const d = run.decidedBy;
  if (!d) return "no module granted access (libpam's final check fails a stack where nothing succeeded)";
  return `${d.outcome.why} (${where(d.handler)}, ${returnName(d.outcome.code)})`;
}

/** Judges `svc` for the account in `actual` (counters as read) and `fresh` (counters cleared). */
export function judgeService(
  svc: LoadedService,
  actual: ModelContext,
  fresh: ModelContext,
  facts: CounterFacts,
): ServiceVerdict {
  const base = { service: svc.service };
  if (svc.startFailure)
    return { ...base, verdict: 'refuses', cause: 'pam', why: svc.startFailure, counters: [], steps: [] };
  const runs = dispatchAll(svc.auth, (h) => moduleOutcomes(h, actual));
  if (!runs)
    return {
      ...base,
      verdict: 'unknown',
      why: `the ${svc.service} stack has too many uncertain modules to walk every case`,
      counters: [],
      steps: [],
    };
  const first = runs[0];
  const counters: CounterUse[] = [];
  for (const s of first.steps) {
    const u = facts.counterUse(s.handler);
    if (u) counters.push({ ...u, where: where(s.handler), handler: s.handler });
  }
  const steps = stepsOf(first);
  const accepted = runs.filter((r) => r.status === PAM_SUCCESS);
  if (accepted.length === runs.length) {
    return {
      ...base,
      verdict: 'accepts',
      why: counters.length
        ? counters.map((c) => `${c.kind} at ${c.where}: ${c.failures}/${c.deny || 'off'}`).join('; ')
        : 'no failure counter on the way',
      counters,
      steps,
    };
  }
  if (accepted.length > 0) {
    const refused = runs.find((r) => r.status !== PAM_SUCCESS)!;
    const uncertain = [
      ...new Set(
        refused.steps
          .filter((s) => s.handler.kind === 'module' && moduleOutcomes(s.handler, actual).length > 1)
          .map((s) => `${s.handler.moduleName} at ${where(s.handler)}`),
      ),
    ];
    return {
      ...base,
      verdict: 'unknown',
      why: `the result depends on ${uncertain.join(', ') || 'modules'} whose answer cannot be known from the files`,
      decidedBy: decided(refused),
      counters,
      steps,
    };
  }
  // Every walk refuses. The counters' fault if the same stack with clear counters could accept.
  const freshRuns = dispatchAll(svc.auth, (h) => moduleOutcomes(h, fresh));
  const counterLocked = runs.every((r) => r.steps.some((s) => s.outcome.why.endsWith(COUNTER_LOCK)));
  if (freshRuns && freshRuns.some((r) => r.status === PAM_SUCCESS) && counterLocked) {
    const lock = runs[0].steps.find((s) => s.outcome.why.endsWith(COUNTER_LOCK))!;
    return {
      ...base,
      verdict: 'refuses',
      cause: 'counter',
      why: lock.outcome.why.slice(0, -COUNTER_LOCK.length),
      decidedBy: `${where(lock.handler)}: ${lock.handler.text}`,
      counters,
      steps,
    };
  }
  const run = freshRuns?.find((r) => r.status !== PAM_SUCCESS) ?? first;
  return {
    ...base,
    verdict: 'refuses',
    cause: 'pam',
    why: because(run),
    decidedBy: decided(run),
    counters,
    steps: stepsOf(run),
  };
}
