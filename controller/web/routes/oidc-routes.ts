/**
 * "Sign in with <provider>": the console's side of the authorization code flow. /auth/oidc/start asks the
 * service layer for the provider's URL (PKCE, state and nonce are made and kept there) and binds the state
 * to this browser in a short-lived cookie; /auth/oidc/callback hands the provider's answer and that cookie
 * back to the service layer, which verifies the ID token, maps the groups to a role and audits, then opens
 * a console session exactly as the token sign-in does. A failure sends the browser to the sign-in page
 * with the error's code and sentence; nothing secret is put in the URL.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FleetpassError, isFleetpassError } from '../../../shared/errors';
import { sessionCookieLine } from '../session-cookie';
import type { WebContext } from '../web-context';

/** The state cookie: Lax, because the provider's redirect back is a cross-site navigation. */
const STATE_COOKIE = '__Host-fleetpass-oidc';

function stateCookie(value: string, maxAgeSeconds: number): string {
  const expires = maxAgeSeconds > 0 ? '' : '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  return `${STATE_COOKIE}=${value}; Max-Age=${maxAgeSeconds}${expires}; Path=/; HttpOnly; Secure; SameSite=Lax`;
}

function readStateCookie(req: FastifyRequest): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === STATE_COOKIE) {
      const v = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{1,100}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}

function backToSignIn(reply: FastifyReply, e: unknown): FastifyReply {
  const err = isFleetpassError(e) ? e : new FleetpassError('FP_INTERNAL');
  const q = new URLSearchParams({ signin_error: err.code, message: err.message.slice(0, 300) });
  return reply.header('set-cookie', stateCookie('', 0)).redirect(`/?${q.toString()}`, 303);
}

export function registerOidcRoutes(app: FastifyInstance, web: WebContext): void {
  const { service, sessions, log } = web;

  app.get('/api/session/options', async () => service.signInOptions());

  app.get('/auth/oidc/start', async (req, reply) => {
    try {
      const { url, state } = await service.beginProviderSignIn(req.ip);
      return reply.header('set-cookie', stateCookie(state, 600)).redirect(url, 303);
    } catch (e) {
      return backToSignIn(reply, e);
    }
  });

  app.get('/auth/oidc/callback', async (req, reply) => {
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    let principal;
    try {
      const callbackUrl = new URL(service.providerRedirectUrl());
      callbackUrl.search = query;
      principal = await service.finishProviderSignIn({
        callbackUrl,
        boundState: readStateCookie(req),
        source: req.ip,
      });
    } catch (e) {
      return backToSignIn(reply, e);
    }
    const opened = sessions.open({ operator: principal.name, source: req.ip });
    try {
      service.recordAccessEvent({
        actor: principal.name,
        action: 'web.signed_in',
        outcome: 'ok',
        details: {
          source: req.ip,
          method: 'oidc',
          role: principal.role,
          session: opened.session.ref,
          userAgent: String(req.headers['user-agent'] ?? '').slice(0, 200),
        },
      });
    } catch (e) {
      // Fail closed: a sign-in that could not be recorded does not happen.
      sessions.end(opened.session, 'revoked');
      return backToSignIn(reply, e);
    }
    log.info({ operator: principal.name, role: principal.role, session: opened.session.ref }, 'web sign-in (oidc)');
    return reply
      .header('set-cookie', [
        stateCookie('', 0),
        sessionCookieLine(opened.id, Math.floor(sessions.settings.absoluteMs / 1000)),
      ])
      .redirect('/', 303);
  });
}
