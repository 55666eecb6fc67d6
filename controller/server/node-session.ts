/**
 * One connected node's stream. Outbound messages go through a per-node queue that respects the stream's
 * backpressure (write() returning false waits for 'drain'), so a slow node only delays its own messages.
 * The registry keeps exactly one session per node: a reconnecting node's new stream replaces and closes
 * the old one, and a closing old stream never unregisters its successor.
 */
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import { toGrpcError, type FleetpassError } from '../../shared/errors';
import type { ConnectRequest, ConnectResponse } from '../../shared/gen/fleetpass/v1/agent';
import type { Logger } from '../../shared/logger';
import type { NodeChannel, NodeChannels } from '../dispatch';

export type ConnectCall = ServerDuplexStream<ConnectRequest, ConnectResponse>;

export interface NodeSession extends NodeChannel {
  readonly id: number;
  readonly nodeId: string;
  readonly peer: string;
  readonly connectedAt: Date;
  readonly closed: boolean;
  /** Messages waiting for the stream to drain. */
  queued(): number;
  /** Ends the stream: with OK when no error is given, else with the error's gRPC status. */
  close(reason: string, error?: FleetpassError | { code: status; details: string }): void;
  /** Marks it closed without writing (the peer is gone). */
  markClosed(): void;
}

let nextSessionId = 1;

/** Wraps a Connect call whose node identity is already established. */
export function createNodeSession(call: ConnectCall, nodeId: string, connectedAt: Date, log: Logger): NodeSession {
  const queue: ConnectResponse[] = [];
  let blocked = false;
  let closed = false;

  function flush(): void {
    while (!closed && !blocked && queue.length > 0) {
      const msg = queue.shift()!;
      let ok: boolean;
      try {
        ok = call.write(msg);
      } catch (err) {
        log.warn({ err }, 'stream write failed');
        closed = true;
        return;
      }
      if (!ok) {
        blocked = true;
        call.once('drain', () => {
          blocked = false;
          flush();
        });
      }
    }
  }

  const session: NodeSession = {
    id: nextSessionId++,
    nodeId,
    peer: call.getPeer(),
    connectedAt,
    get closed() {
      return closed;
    },
    queued: () => queue.length,
    send(message) {
      if (closed) return false;
      queue.push(message);
      flush();
      return true;
    },
    close(reason, error) {
      if (closed) return;
      closed = true;
      queue.length = 0;
      log.info({ reason }, 'closing node stream');
      try {
        if (error) call.emit('error', 'code' in error && typeof error.code === 'number' ? error : toGrpcError(error));
        else call.end();
      } catch (err) {
        log.debug({ err }, 'stream already gone');
      }
    },
    markClosed() {
      closed = true;
      queue.length = 0;
    },
  };
  return session;
}

export interface SessionRegistry extends NodeChannels {
  get(nodeId: string): NodeSession | undefined;
  /** Registers `session`, closing and returning the node's previous session if any. */
  register(session: NodeSession): NodeSession | undefined;
  /** Removes `session` only if it is still the node's current one; true when it was. */
  unregister(session: NodeSession): boolean;
  nodeIds(): string[];
  size(): number;
  /** Closes every session (shutdown). */
  closeAll(reason: string): void;
}

/** The one map of live node streams. */
export function createSessionRegistry(): SessionRegistry {
  const sessions = new Map<string, NodeSession>();
  return {
    get: (nodeId) => sessions.get(nodeId),
    register(session) {
      const previous = sessions.get(session.nodeId);
      sessions.set(session.nodeId, session);
      if (previous && previous !== session) {
        previous.close('replaced by a newer connection from the same node', {
          code: status.ABORTED,
          details: 'a newer connection from this node replaced this stream',
        });
      }
      return previous;
    },
    unregister(session) {
      if (sessions.get(session.nodeId) !== session) return false;
      sessions.delete(session.nodeId);
      return true;
    },
    nodeIds: () => [...sessions.keys()],
    size: () => sessions.size,
    closeAll(reason) {
      for (const s of sessions.values())
        s.close(reason, { code: status.UNAVAILABLE, details: 'the controller is shutting down' });
      sessions.clear();
    },
  };
}
