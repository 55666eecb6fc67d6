/**
 * Sign-in, who am I, and sign-out. Sign-in takes an operator API token (pasted into the form), checks it
 * through the service layer's authenticator (which audits every failure), and opens a server-side session
 * whose random id goes to the browser in an HttpOnly, Secure, SameSite=Strict cookie. Repeated failures
 * per address and per token id from an address are refused unchecked for a while; every sign-in and
 * sign-out is audited.
 */
import type { FastifyInstance } from 'fastify';
import { FleetpassError, isFleetpassError } from '../../../shared/errors';
import { tokenId } from '../../access/api-tokens';
import type { SessionInfo } from '../api-types';
import { clearSessionCookie, setSessionCookie } from '../session-cookie';
import type { WebContext } from '../web-context';

const MAX_TOKEN_LENGTH = 256;

export function registerSessionRoutes(app: FastifyInstance, web: WebContext): void {
  const { service, sessions, limiter, log } = web;

  app.get('/api/session', async (req): Promise<SessionInfo> => {
    const { session, principal } = web.auth(req, 'read');
    return web.sessionInfo(session, principal);
  });

  app.post('/api/session', async (req, reply): Promise<SessionInfo> => {
    web.checkOrigin(req);
    const raw = (req.body as { token?: unknown } | undefined)?.token;
    if (typeof raw !== 'string' || !raw.trim() || raw.length > MAX_TOKEN_LENGTH) {
      throw new FleetpassError('FP_INVALID_ARGUMENT', 'paste your operator API token (it starts with fpt_)');
    }
    const source = req.ip;
    service.assertTokenSignIn(source);
    const token = raw.trim();
    const id = tokenId(token);
    const verdict = limiter.check(source, id);
    if (verdict.blocked) {
      if (verdict.firstRefusal) {
        service.recordAccessEvent({
          actor: 'unauthenticated',
          action: 'web.signin_throttled',
          outcome: 'refused',
          details: {
            source,
            tokenId: id ?? '',
            by: verdict.by,
            windowSeconds: Math.round(limiter.limits.windowMs / 1000),
          },
        });
      }
      log.warn({ source, tokenId: id, by: verdict.by, refusals: verdict.refusals }, 'web sign-in throttled');
      reply.header('retry-after', String(verdict.retryAfterSeconds));
      throw new FleetpassError(
        'FP_WEB_SIGNIN_THROTTLED',
        `too many failed sign-ins ${verdict.by === 'token' ? 'for this token from this address' : 'from this address'}; try again in ${Math.ceil(verdict.retryAfterSeconds / 60)} minute(s)`,
      );
    }
    let principal;
    try {
      principal = service.authenticate({ authorization: `Bearer ${token}`, source, what: 'web sign-in' });
    } catch (e) {
      if (isFleetpassError(e) && e.code === 'FP_UNAUTHENTICATED') {
        limiter.failed(source, id);
        throw new FleetpassError(
          'FP_UNAUTHENTICATED',
          'that token was not accepted (unknown, expired, revoked, or its operator is disabled)',
        );
      }
      throw e;
    }
    limiter.succeeded(source, id);
    const opened = sessions.open({ operator: principal.name, tokenId: principal.tokenId, source });
    try {
      service.recordAccessEvent({
        actor: principal.name,
        action: 'web.signed_in',
        outcome: 'ok',
        details: {
          source,
          tokenId: principal.tokenId ?? '',
          role: principal.role,
          session: opened.session.ref,
          userAgent: String(req.headers['user-agent'] ?? '').slice(0, 200),
        },
      });
    } catch (e) {
      // Fail closed: a sign-in that could not be recorded does not happen.
      sessions.end(opened.session, 'revoked');
      throw e;
    }
    log.info({ operator: principal.name, role: principal.role, session: opened.session.ref, source }, 'web sign-in');
    setSessionCookie(reply, opened.id, Math.floor(sessions.settings.absoluteMs / 1000));
    return web.sessionInfo(opened.session, { ...principal, via: 'session' });
  });

  app.delete('/api/session', async (req, reply) => {
    const { session } = web.auth(req, 'change');
    sessions.end(session, 'signed-out');
    clearSessionCookie(reply);
    return { signedOut: true };
  });
}
