/**
 * The live feed: one EventSource on /api/events (the session cookie goes with it), fanned out to the
 * pages that listen. The browser reconnects by itself after a network error; when the server closes
 * the stream because the session ended, the app is told so it can show the sign-in form.
 */
import type { LiveEvent } from '../api-types';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'closed';
type Listener = (e: LiveEvent) => void;

export interface Live {
  on(listener: Listener): () => void;
  onStatus(listener: (s: LiveStatus) => void): () => void;
  status(): LiveStatus;
  close(): void;
}

const TYPES: LiveEvent['type'][] = ['node', 'accounts', 'operation', 'request'];

export function openLive(onEnded: () => void): Live {
  const listeners = new Set<Listener>();
  const statusListeners = new Set<(s: LiveStatus) => void>();
  let state: LiveStatus = 'connecting';
  const set = (s: LiveStatus) => {
    state = s;
    for (const l of [...statusListeners]) l(s);
  };
  const es = new EventSource('/api/events');
  es.onopen = () => set('live');
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      set('closed');
      onEnded();
    } else set('reconnecting');
  };
  for (const t of TYPES) {
    es.addEventListener(t, (m) => {
      let e: LiveEvent;
      try {
        e = JSON.parse((m as MessageEvent<string>).data) as LiveEvent;
      } catch {
        return;
      }
      for (const l of [...listeners]) l(e);
    });
  }
  // The server says why it closed the stream: for a shutdown or a slow read the browser reconnects by
  // itself; any other reason means the session is over.
  es.addEventListener('closed', (m) => {
    const why = (JSON.parse((m as MessageEvent<string>).data) as { why: string }).why;
    if (why === 'shutdown' || why === 'slow-client') {
      set('reconnecting');
      return;
    }
    es.close();
    set('closed');
    onEnded();
  });
  return {
    on(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    onStatus(l) {
      statusListeners.add(l);
      return () => statusListeners.delete(l);
    },
    status: () => state,
    close() {
      es.close();
      set('closed');
    },
  };
}
