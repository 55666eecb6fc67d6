/**
 * Write-behind for node liveness: heartbeats and other signs of life are noted in memory and written
 * in one transaction per flush (every second by default) instead of one fsync per heartbeat, which
 * matters with thousands of nodes. Shutdown and the stale job flush first, so nothing noted is lost.
 */
import type { Logger } from '../../shared/logger';
import type { Store } from '../store';

export interface LivenessTracker {
  touch(nodeId: string, at: Date, busy?: boolean): void;
  /** Writes every pending note; returns how many nodes were written. */
  flush(): number;
  start(): void;
  stop(): void;
}

export function createLivenessTracker(store: Store, log: Logger, intervalMs = 1000): LivenessTracker {
  const pending = new Map<string, { at: Date; busy?: boolean }>();
  let timer: NodeJS.Timeout | undefined;

  function flush(): number {
    if (pending.size === 0) return 0;
    const batch = [...pending];
    pending.clear();
    try {
      store.db
        .transaction(() => {
          for (const [nodeId, n] of batch) store.nodes.touch(nodeId, n.at, n.busy);
        })
        .immediate();
    } catch (err) {
      // Liveness is not audited; losing a note only makes a node look quieter. Put them back for the next try.
      for (const [nodeId, n] of batch) if (!pending.has(nodeId)) pending.set(nodeId, n);
      log.warn({ err, nodes: batch.length }, 'liveness flush failed');
      return 0;
    }
    return batch.length;
  }

  return {
    touch(nodeId, at, busy) {
      const prev = pending.get(nodeId);
      pending.set(nodeId, { at, busy: busy ?? prev?.busy });
    },
    flush,
    start() {
      if (timer) return;
      timer = setInterval(flush, intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      flush();
    },
  };
}
