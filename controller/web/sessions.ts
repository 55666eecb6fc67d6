/**
 * Console sessions, kept in memory: the browser holds a random 256-bit id in a cookie; the server keeps
 * only its SHA-256, the operator, the API token it was opened with, and a CSRF token bound to it. A
 * session ends on sign-out, after `idleMs` without a request, or `absoluteMs` after sign-in, whichever
 * comes first. A restart signs everyone out (nothing to steal from disk, nothing to migrate).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../shared/clock';

export interface SessionSettings {
  idleMs: number;
  absoluteMs: number;
  /** Sessions kept at once; the least recently used one is ended first. */
  maxSessions: number;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = {
  idleMs: 15 * 60_000,
  absoluteMs: 8 * 3_600_000,
  maxSessions: 1000,
};

export interface Session {
  /** sha256 of the cookie value, hex; also the map key. */
  readonly idHash: string;
  /** A short, non-secret handle for logs and audit (the first 12 hex digits of the hash). */
  readonly ref: string;
  readonly operator: string;
  readonly tokenId: string | undefined;
  readonly csrfToken: string;
  readonly created: number;
  readonly expires: number;
  lastSeen: number;
  readonly source: string;
}

export type EndReason = 'signed-out' | 'idle' | 'expired' | 'evicted' | 'revoked';

export type SessionStore = ReturnType<typeof createSessionStore>;

function hashId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

/** Constant-time comparison of two short strings (CSRF tokens). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** An in-memory session store; `onEnd` hears every session that ends (for audit and closing streams). */
export function createSessionStore(
  clock: Clock,
  settings: SessionSettings = DEFAULT_SESSION_SETTINGS,
  onEnd: (s: Session, why: EndReason) => void = () => undefined,
) {
  const sessions = new Map<string, Session>();

  function end(s: Session, why: EndReason): void {
    if (sessions.delete(s.idHash)) onEnd(s, why);
  }

  function expiredWhy(s: Session, now: number): EndReason | undefined {
    if (now >= s.expires) return 'expired';
    if (now - s.lastSeen >= settings.idleMs) return 'idle';
    return undefined;
  }

  return {
    /** Opens a session; returns the cookie value (shown to the browser only) and the record. */
    open(input: { operator: string; tokenId?: string; source: string }): { id: string; session: Session } {
      const now = clock.now().getTime();
      if (sessions.size >= settings.maxSessions) {
        let oldest: Session | undefined;
        for (const s of sessions.values()) if (!oldest || s.lastSeen < oldest.lastSeen) oldest = s;
        if (oldest) end(oldest, 'evicted');
      }
      const id = randomBytes(32).toString('base64url');
      const idHash = hashId(id);
      const session: Session = {
        idHash,
        ref: idHash.slice(0, 12),
        operator: input.operator,
        tokenId: input.tokenId,
        csrfToken: randomBytes(32).toString('base64url'),
        created: now,
        expires: now + settings.absoluteMs,
        lastSeen: now,
        source: input.source,
      };
      sessions.set(idHash, session);
      return { id, session };
    },
    /**
     * The live session for a cookie value, or undefined (unknown, or ended now because it idled or
     * expired). `touch` counts the request as activity (a live event stream does not).
     */
    find(id: string | undefined, touch = true): Session | undefined {
      if (!id || id.length > 100) return undefined;
      const s = sessions.get(hashId(id));
      if (!s) return undefined;
      const now = clock.now().getTime();
      const why = expiredWhy(s, now);
      if (why) {
        end(s, why);
        return undefined;
      }
      if (touch) s.lastSeen = now;
      return s;
    },
    /** Re-checks a session already found (long-lived streams); false once it ended. */
    alive(s: Session): boolean {
      if (!sessions.has(s.idHash)) return false;
      const why = expiredWhy(s, clock.now().getTime());
      if (why) end(s, why);
      return !why;
    },
    end,
    /** Ends every session whose time is up; returns how many. */
    sweep(): number {
      const now = clock.now().getTime();
      let n = 0;
      for (const s of [...sessions.values()]) {
        const why = expiredWhy(s, now);
        if (why) {
          end(s, why);
          n++;
        }
      }
      return n;
    },
    /** Ends every session of an operator (or opened with a token) that `match` selects. */
    endWhere(match: (s: Session) => boolean, why: EndReason): number {
      let n = 0;
      for (const s of [...sessions.values()]) {
        if (match(s)) {
          end(s, why);
          n++;
        }
      }
      return n;
    },
    size: (): number => sessions.size,
    settings,
  };
}
