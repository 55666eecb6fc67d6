/**
 * A small synchronous pub/sub for live updates: every operation and change request update, node
 * online/offline/stale, and account state changes. The admin layer streams these (WatchChangeRequest),
 * the web console pushes them. Events are emitted only after the change committed. A listener that
 * throws is logged and never disturbs dispatch or other listeners.
 */
import type { Logger } from '../../shared/logger';
import type { AccountChange, ChangeRequestRecord, NodeRecord, OperationRecord } from '../store';

export type ControllerEvent =
  | { type: 'operation'; operation: OperationRecord; request: ChangeRequestRecord }
  | { type: 'request'; request: ChangeRequestRecord }
  | { type: 'node'; change: 'online' | 'offline' | 'stale' | 'revoked' | 'labels'; node: NodeRecord }
  | { type: 'accounts'; nodeId: string; changes: AccountChange[] };

export type ControllerEventListener = (event: ControllerEvent) => void;

export interface EventBus {
  emit(event: ControllerEvent): void;
  /** Returns the unsubscribe function. */
  subscribe(listener: ControllerEventListener): () => void;
  listenerCount(): number;
}

export function createEventBus(log: Logger): EventBus {
  const listeners = new Set<ControllerEventListener>();
  return {
    emit(event) {
      for (const l of [...listeners]) {
        try {
          l(event);
        } catch (err) {
          log.error({ err, event: event.type }, 'event listener failed');
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    listenerCount: () => listeners.size,
  };
}
