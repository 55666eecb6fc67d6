/**
 * Reconnect delays: exponential backoff with full jitter (a uniformly random delay between 0 and the
 * capped exponential), so a fleet that lost its controller does not reconnect in lockstep.
 */

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Uniform [0, 1); injected so tests are deterministic. */
  readonly random?: () => number;
}

/** The delay before reconnect attempt `attempt` (0 = first retry). */
export function fullJitterDelay(attempt: number, options: BackoffOptions): number {
  const cap = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.floor((options.random ?? Math.random)() * cap);
}
