/**
 * What every console route gets: the ONE service layer (roles, policy, approvals and refusal audit live
 * there), the session store, the sign-in limiter and the live event hub; plus
 * `auth`, the guard at the top of every API handler: a live session, a token that still works, an
 * operator still enabled, and for changes the CSRF token bound to the session and a same-site origin.
 */
import type { FastifyRequest } from 'fastify';
import type { Clock } from '../../shared/clock';
import { FleetpassError, isFleetpassError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import type { Principal, Service } from '../service';
import type { Abilities, SessionInfo } from './api-types';
import type { EventHub } from './event-stream';
import { readSessionCookie } from './session-cookie';
import { sameSecret, type Session, type SessionStore } from './sessions';
import type { SignInLimiter } from './signin-limiter';

export { SESSION_COOKIE } from './session-cookie';
export const CSRF_HEADER = 'x-csrf-token';

export interface WebContext {
  service: Service;
  clock: Clock;
  log: Logger;
  sessions: SessionStore;
  limiter: SignInLimiter;
  hub: EventHub;
  /** The guard: 'read' for GETs, 'change' for anything that changes state (CSRF checked). */
  auth(req: FastifyRequest, kind: 'read' | 'change' | 'stream'): { session: Session; principal: Principal };
  /** Refuses a request whose Origin (when sent) is not this console. */
  checkOrigin(req: FastifyRequest): void;
  sessionInfo(session: Session, principal: Principal): SessionInfo;
}

export interface WebContextDeps {
  service: Service;
  clock: Clock;
  log: Logger;
  sessions: SessionStore;
  limiter: SignInLimiter;
  hub: EventHub;
}

export function createWebContext(deps: WebContextDeps): WebContext {
  const { service, sessions, log } = deps;

  function ended(): FleetpassError {
    return new FleetpassError('FP_WEB_SESSION_REQUIRED');
  }

  /** Audits a refused change (a CSRF or origin failure with a live session); fails closed either way. */
  function refuseForgery(session: Session | undefined, req: FastifyRequest, why: string): FleetpassError {
    const err = new FleetpassError(
      'FP_WEB_CSRF',
      why === 'origin'
        ? 'the request came from another site; the console only accepts changes from its own pages'
        : undefined,
    );
    try {
      service.recordAccessEvent({
        actor: session?.operator ?? 'unauthenticated',
        action: 'access.denied',
        outcome: 'refused',
        details: {
          what: `${req.method} ${req.routeOptions.url ?? ''}`,
          code: err.code,
          why,
          via: 'session',
          source: req.ip,
          session: session?.ref ?? '',
        },
      });
    } catch (e) {
      log.error({ err: e }, 'cannot audit a refused web request');
    }
    log.warn({ operator: session?.operator, route: req.routeOptions.url, why, source: req.ip }, 'web request refused');
    return err;
  }

  function checkOrigin(req: FastifyRequest): void {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `https://${req.headers.host ?? ''}`)
      throw refuseForgery(undefined, req, 'origin');
    // Browsers send Sec-Fetch-Site on every request; anything but our own pages is refused for changes.
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') throw refuseForgery(undefined, req, 'origin');
  }

  function tokenStillValid(s: Session): boolean {
    return service.tokenStillValid(s.tokenId);
  }

  function abilities(p: Principal): Abilities {
    return {
      request: service.allows(p, 'operations.request'),
      decide: service.allows(p, 'requests.decide'),
      cancelAny: service.allows(p, 'requests.cancel-any'),
      auditRead: service.allows(p, 'audit.read'),
      escrowRead: service.allows(p, 'escrow.read'),
      escrowReveal: service.allows(p, 'escrow.reveal'),
    };
  }

  return {
    service,
    clock: deps.clock,
    log,
    sessions,
    limiter: deps.limiter,
    hub: deps.hub,
    checkOrigin,
    auth(req, kind) {
      const session = sessions.find(readSessionCookie(req), kind !== 'stream');
      if (!session) throw ended();
      if (!tokenStillValid(session)) {
        sessions.end(session, 'revoked');
        throw ended();
      }
      let principal: Principal;
      try {
        // The session's token goes with it: the second-person rule looks at who could hold it.
        principal = service.principalFor(session.operator, 'session', req.ip, session.tokenId);
      } catch (e) {
        if (isFleetpassError(e) && e.code === 'FP_UNAUTHENTICATED') {
          sessions.end(session, 'revoked');
          throw ended();
        }
        throw e;
      }
      if (kind === 'change') {
        const origin = req.headers.origin;
        if (origin !== undefined && origin !== `https://${req.headers.host ?? ''}`)
          throw refuseForgery(session, req, 'origin');
        const sent = req.headers[CSRF_HEADER];
        if (typeof sent !== 'string' || !sameSecret(sent, session.csrfToken))
          throw refuseForgery(session, req, sent === undefined ? 'csrf-token-missing' : 'csrf-token-wrong');
      }
      return { session, principal };
    },
    sessionInfo(session, principal) {
      return {
        operator: principal.name,
        role: principal.role,
        csrfToken: session.csrfToken,
        abilities: abilities(principal),
        expires: new Date(session.expires).toISOString(),
        idleMinutes: Math.round(sessions.settings.idleMs / 60_000),
      };
    },
  };
}
