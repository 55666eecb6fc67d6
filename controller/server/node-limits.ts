/**
 * Limits on what one node may make the controller do, so a broken or hostile agent cannot flood the
 * audit log, the disk (every hello and result is a synced transaction) or the logs: how many streams a
 * node may open per window (a reconnect loop, a hello flood), how many messages one stream may send
 * (a token bucket: a burst, then a steady rate far above what a healthy agent sends), and how many of
 * its results the controller may reject (unknown operations, another node's) before it is cut off for
 * the window. Memory is bounded: old windows are dropped and past `maxNodes` the oldest goes.
 * Time is a monotonic millisecond reading, injected, and deliberately not the controller's Clock: tests
 * freeze that clock for expiry logic, and a frozen clock would never refill a bucket.
 */

export interface NodeLimits {
  windowSeconds: number;
  /** Streams one node may open within the window; a healthy agent opens one per reconnect. */
  connectsPerWindow: number;
  /** Results from one node the controller may reject within the window before refusing that node. */
  rejectedResultsPerWindow: number;
  /** Messages one stream may send at once... */
  messageBurst: number;
  /** ...and per second after that (a healthy agent sends a heartbeat every 30 s, a report or result per change). */
  messagesPerSecond: number;
  maxNodes: number;
}

export const DEFAULT_NODE_LIMITS: NodeLimits = {
  windowSeconds: 60,
  connectsPerWindow: 30,
  rejectedResultsPerWindow: 20,
  messageBurst: 200,
  messagesPerSecond: 20,
  maxNodes: 100_000,
};

/** "ok", "limited" (refuse), or "first" (refuse; the first refusal of this window, to be audited once). */
export type LimitVerdict = 'ok' | 'limited' | 'first';

export interface MessageBucket {
  /** Takes one message; false when the stream is over its rate. */
  take(): boolean;
}

export interface NodeLimiter {
  readonly limits: NodeLimits;
  /** Counts a new stream from the node. */
  connect(nodeId: string): LimitVerdict;
  /** Counts a rejected result; past the limit the node is refused for the rest of the window. */
  rejectedResult(nodeId: string): LimitVerdict;
  /** One of the node's streams went over its message rate: the node is refused for the rest of the window. */
  flooded(nodeId: string): LimitVerdict;
  /** A state report refused as too large: "first" once per window (audit it), "limited" after; never blocks the node. */
  refusedReport(nodeId: string): Exclude<LimitVerdict, 'ok'>;
  /** A fresh message bucket for one stream. */
  bucket(): MessageBucket;
}

interface Window {
  start: number;
  connects: number;
  rejected: number;
  reportsRefused: number;
  /** Set once the node went over a limit in this window: it stays refused until the window ends. */
  blocked: boolean;
}

/** A limiter over `nowMs` (default performance.now). */
export function createNodeLimiter(
  overrides: Partial<NodeLimits> = {},
  nowMs: () => number = () => performance.now(),
): NodeLimiter {
  const limits = { ...DEFAULT_NODE_LIMITS, ...overrides };
  const windowMs = limits.windowSeconds * 1000;
  const windows = new Map<string, Window>();

  function windowOf(nodeId: string): Window {
    const now = nowMs();
    let w = windows.get(nodeId);
    if (w && now - w.start >= windowMs) {
      windows.delete(nodeId);
      w = undefined;
    }
    if (!w) {
      if (windows.size >= limits.maxNodes) windows.delete(windows.keys().next().value as string);
      w = { start: now, connects: 0, rejected: 0, reportsRefused: 0, blocked: false };
      windows.set(nodeId, w);
    }
    return w;
  }

  function verdict(w: Window, over: boolean): LimitVerdict {
    if (w.blocked) return 'limited';
    if (!over) return 'ok';
    w.blocked = true;
    return 'first';
  }

  return {
    limits,
    connect(nodeId) {
      const w = windowOf(nodeId);
      w.connects++;
      return verdict(w, w.connects > limits.connectsPerWindow);
    },
    rejectedResult(nodeId) {
      const w = windowOf(nodeId);
      w.rejected++;
      return verdict(w, w.rejected > limits.rejectedResultsPerWindow);
    },
    flooded(nodeId) {
      return verdict(windowOf(nodeId), true);
    },
    refusedReport(nodeId) {
      const w = windowOf(nodeId);
      w.reportsRefused++;
      return w.reportsRefused === 1 ? 'first' : 'limited';
    },
    bucket() {
      let tokens = limits.messageBurst;
      let last = nowMs();
      return {
        take() {
          const now = nowMs();
          tokens = Math.min(limits.messageBurst, tokens + ((now - last) / 1000) * limits.messagesPerSecond);
          last = now;
          if (tokens < 1) return false;
          tokens -= 1;
          return true;
        },
      };
    },
  };
}
