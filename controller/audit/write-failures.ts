/**
 * Who wants to hear that an audit record could not be written (the metrics count them, so an alert
 * fires before anyone reads the log). Keyed by data file handle, so several controllers in one process
 * (tests) count their own.
 */
import type { Db } from '../store/database';

type Listener = (err: unknown) => void;
const listeners = new Map<Db, Set<Listener>>();

/** Calls `listener` for every failed audit write on `db`; returns the unsubscribe. */
export function onAuditWriteFailure(db: Db, listener: Listener): () => void {
  let set = listeners.get(db);
  if (!set) listeners.set(db, (set = new Set()));
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0) listeners.delete(db);
  };
}

export function reportAuditWriteFailure(db: Db, err: unknown): void {
  for (const l of listeners.get(db) ?? []) {
    try {
      l(err);
    } catch {
      // a listener's bug must not change how the failure is handled
    }
  }
}
