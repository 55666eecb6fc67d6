/**
 * A small in-memory failure limiter: after `maxFailures` within `windowSeconds` a key (a peer address, a
 * node id) is refused until that window has passed. Memory is bounded: old windows are dropped, and past
 * `maxKeys` the oldest key goes. Time comes from the injected clock.
 */
import type { Clock } from '../../shared/clock';

export interface RateLimiter {
  /** True while `key` is refused. */
  blocked(key: string): boolean;
  /** Counts one event for `key`; returns true when this event made it blocked. */
  hit(key: string): boolean;
  /** Forgets `key` (e.g. after a success). */
  reset(key: string): void;
}

export function createRateLimiter(opts: {
  maxFailures: number;
  windowSeconds: number;
  clock: Clock;
  maxKeys?: number;
}): RateLimiter {
  const windowMs = opts.windowSeconds * 1000;
  const maxKeys = opts.maxKeys ?? 10_000;
  const entries = new Map<string, { start: number; count: number }>();

  function current(key: string, now: number): { start: number; count: number } | undefined {
    const e = entries.get(key);
    if (e && now - e.start >= windowMs) {
      entries.delete(key);
      return undefined;
    }
    return e;
  }

  return {
    blocked(key) {
      const e = current(key, opts.clock.now().getTime());
      return !!e && e.count >= opts.maxFailures;
    },
    hit(key) {
      const now = opts.clock.now().getTime();
      let e = current(key, now);
      if (!e) {
        if (entries.size >= maxKeys) {
          for (const [k, v] of entries) if (now - v.start >= windowMs) entries.delete(k);
          if (entries.size >= maxKeys) entries.delete(entries.keys().next().value as string);
        }
        e = { start: now, count: 0 };
        entries.set(key, e);
      }
      e.count += 1;
      return e.count === opts.maxFailures;
    },
    reset(key) {
      entries.delete(key);
    },
  };
}
