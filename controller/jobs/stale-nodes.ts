/**
 * Job: a node silent for longer than staleAfterSeconds is marked stale; if it still holds a stream, the
 * stream is closed (it is dead or wedged; a live agent reconnects at once). Backs up HTTP/2 keepalive.
 */
import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import type { EventBus } from '../dispatch';
import type { LivenessTracker } from '../server/liveness';
import type { SessionRegistry } from '../server/node-session';
import type { Store } from '../store';

export interface StaleDeps {
  store: Store;
  sessions: SessionRegistry;
  liveness: LivenessTracker;
  events: EventBus;
  log: Logger;
  staleAfterSeconds: number;
}

/** Marks silent nodes stale; returns their ids. */
export function markStaleNodes(deps: StaleDeps, clock: Clock): string[] {
  deps.liveness.flush();
  const cutoff = new Date(clock.now().getTime() - deps.staleAfterSeconds * 1000);
  const stale = deps.store.nodes.staleCandidates(cutoff);
  for (const node of stale) {
    deps.store.nodes.markStale(node.id);
    const session = deps.sessions.get(node.id);
    if (session) session.close('silent for too long');
    deps.log.warn({ nodeId: node.id, lastSeen: node.lastSeen, hadStream: !!session }, 'node stale');
    deps.events.emit({ type: 'node', change: 'stale', node: { ...node, stale: true } });
  }
  return stale.map((n) => n.id);
}
