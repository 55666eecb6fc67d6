/** Job: ask every connected node to inspect its accounts and report (a periodic state refresh). */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../shared/logger';
import type { SessionRegistry } from '../server/node-session';

export interface RefreshDeps {
  sessions: SessionRegistry;
  log: Logger;
}

/** Sends one RefreshRequest per connected node; returns how many were queued. */
export function refreshOnlineNodes(deps: RefreshDeps): number {
  let sent = 0;
  for (const nodeId of deps.sessions.nodeIds()) {
    const requestId = randomUUID();
    if (deps.sessions.get(nodeId)?.send({ message: { $case: 'refresh', refresh: { requestId, accounts: [] } } }))
      sent++;
  }
  deps.log.debug({ nodes: sent }, 'refresh requested');
  return sent;
}
