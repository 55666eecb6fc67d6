/**
 * Live console updates as server-sent events: one subscription to the controller's event bus turns each
 * event into the console's JSON once and writes it to every open stream. A stream belongs to a session:
 * it closes when the session ends (sign-out, idle, expiry, operator disabled), when the client stops
 * reading (a bounded buffer), and at shutdown. A comment line every `heartbeatMs` keeps proxies from
 * timing the stream out and re-checks the session.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../../shared/logger';
import type { ControllerEvent } from '../dispatch';
import type { Service } from '../service';
import { FleetpassError } from '../../shared/errors';
import type { LiveEvent } from './api-types';
import type { Session } from './sessions';
import { accountStateJson, nodeJson, operationJson, requestJson, siteOf } from './views';

export interface EventHubDeps {
  service: Service;
  log: Logger;
  /** Re-checks a stream's session (alive, operator still enabled); false closes the stream. */
  stillValid: (s: Session) => boolean;
  heartbeatMs?: number;
  maxStreams?: number;
  maxPerSession?: number;
  /** Bytes a slow client may leave unread before its stream is dropped. */
  maxBufferedBytes?: number;
}

interface Stream {
  session: Session;
  res: ServerResponse;
}

export type EventHub = ReturnType<typeof createEventHub>;

/** Formats one event for the wire. */
export function sseFrame(event: LiveEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export function createEventHub(deps: EventHubDeps) {
  const { service, log } = deps;
  const facts = service.feedFacts;
  const maxStreams = deps.maxStreams ?? 500;
  const maxPerSession = deps.maxPerSession ?? 6;
  const maxBuffered = deps.maxBufferedBytes ?? 1024 * 1024;
  const streams = new Set<Stream>();
  let unsubscribe: (() => void) | undefined;
  let heartbeat: NodeJS.Timeout | undefined;

  /** The console's view of a controller event (undefined for events it does not show). */
  function toLive(e: ControllerEvent): LiveEvent | undefined {
    switch (e.type) {
      case 'node': {
        const locked = facts.lockedAccounts(e.node.id);
        return { type: 'node', node: nodeJson(e.node, locked) };
      }
      case 'accounts': {
        const node = facts.node(e.nodeId);
        const changed = new Date().toISOString();
        return {
          type: 'accounts',
          nodeId: e.nodeId,
          accounts: e.changes.map((c) => ({
            nodeId: e.nodeId,
            hostname: node?.hostname ?? '',
            site: siteOf(node?.labels ?? {}),
            online: node?.online ?? false,
            privileged: facts.isPrivileged(c.current.backend, c.current.account, c.current),
            changed,
            state: accountStateJson(c.current),
          })),
        };
      }
      case 'operation':
        return { type: 'operation', operation: operationJson(e.operation) };
      case 'request':
        return { type: 'request', request: requestJson(e.request, facts.requestCounts(e.request.id)) };
      default:
        return undefined;
    }
  }

  function close(s: Stream, why: string): void {
    if (!streams.delete(s)) return;
    try {
      if (!s.res.writableEnded) s.res.end(`event: closed\ndata: ${JSON.stringify({ why })}\n\n`);
    } catch {
      // the socket is already gone
    }
    if (streams.size === 0) stop();
  }

  function write(s: Stream, text: string): void {
    if (s.res.writableLength > maxBuffered) {
      log.warn(
        { session: s.session.ref, buffered: s.res.writableLength },
        'live stream dropped: the client is not reading',
      );
      close(s, 'slow-client');
      s.res.destroy();
      return;
    }
    s.res.write(text);
  }

  function broadcast(e: ControllerEvent): void {
    if (streams.size === 0) return;
    const live = toLive(e);
    if (!live) return;
    const frame = sseFrame(live);
    for (const s of [...streams]) write(s, frame);
  }

  function beat(): void {
    for (const s of [...streams]) {
      if (!deps.stillValid(s.session)) close(s, 'session-ended');
      else write(s, ': ping\n\n');
    }
  }

  function start(): void {
    if (unsubscribe) return;
    unsubscribe = service.fleetFeed(broadcast);
    heartbeat = setInterval(beat, deps.heartbeatMs ?? 20_000);
    heartbeat.unref();
  }

  function stop(): void {
    unsubscribe?.();
    unsubscribe = undefined;
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = undefined;
  }

  return {
    /**
     * Takes over `res` as an event stream for `session` (the caller has checked the session and the
     * role) and sends `headers`. Throws FP_WEB_TOO_MANY_STREAMS past the limits, before writing anything.
     */
    open(session: Session, res: ServerResponse, headers: Record<string, string>): void {
      const mine = [...streams].filter((s) => s.session.idHash === session.idHash).length;
      if (streams.size >= maxStreams || mine >= maxPerSession) throw new FleetpassError('FP_WEB_TOO_MANY_STREAMS');
      res.writeHead(200, {
        ...headers,
        'content-type': 'text/event-stream; charset=utf-8',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const s: Stream = { session, res };
      streams.add(s);
      start();
      res.on('close', () => close(s, 'client-gone'));
      res.write('retry: 3000\n\n: connected\n\n');
    },
    /** Closes the streams of one session (it ended). */
    closeSession(session: Session, why: string): void {
      for (const s of [...streams]) if (s.session.idHash === session.idHash) close(s, why);
    },
    closeAll(why = 'shutdown'): void {
      for (const s of [...streams]) close(s, why);
      stop();
    },
    size: (): number => streams.size,
  };
}
