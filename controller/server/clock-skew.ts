/**
 * Clock skew between a node and the controller, from the `sent` time of its heartbeats. Operations carry
 * an absolute expiry that the agent checks against its own clock: a node clock far ahead refuses fresh
 * operations as expired, one far behind would still apply operations the controller has given up on.
 * Logged as a warning when it first goes past the threshold, and once when it is back within it.
 */
import type { Logger } from '../../shared/logger';

/** Skew beyond this is worth a warning: well above network delay, well below an operation's lifetime. */
export const DEFAULT_SKEW_WARN_SECONDS = 60;

export interface SkewWatch {
  /** Looks at one heartbeat's `sent` time against the controller's `now`; returns the skew in ms (node minus controller). */
  observe(sent: Date | undefined, now: Date): number | undefined;
}

/** One watch per stream, so each node's warning is logged once per crossing, not per heartbeat. */
export function createSkewWatch(log: Logger, warnSeconds = DEFAULT_SKEW_WARN_SECONDS): SkewWatch {
  let warned = false;
  return {
    observe(sent, now) {
      if (!sent || Number.isNaN(sent.getTime()) || sent.getTime() <= 0) return undefined;
      const skewMs = sent.getTime() - now.getTime();
      const over = Math.abs(skewMs) > warnSeconds * 1000;
      if (over && !warned) {
        log.warn(
          {
            skewSeconds: Math.round(skewMs / 1000),
            warnSeconds,
            nodeTime: sent.toISOString(),
            controllerTime: now.toISOString(),
          },
          'node clock skew; operation expiry is judged by the node clock',
        );
      } else if (!over && warned) {
        log.info({ skewSeconds: Math.round(skewMs / 1000) }, 'node clock skew back within bounds');
      }
      warned = over;
      return skewMs;
    },
  };
}
