/**
 * The console's HTTPS server (fastify 5): security headers on every answer, JSON errors with stable
 * codes, a coarse per-address request limit, the built UI files from dist/web, and the /api routes. No
 * rule lives here; the routes call the service layer. Only JSON bodies are accepted (a cross-site form cannot
 * send one without a CORS preflight, which is never granted).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import type { Service } from '../service';
import { createEventHub, type EventHub } from './event-stream';
import { errorResponse } from './http-errors';
import { registerAuditRoutes } from './routes/audit-routes';
import { registerEscrowRoutes } from './routes/escrow-routes';
import { registerFleetRoutes } from './routes/fleet-routes';
import { registerOidcRoutes } from './routes/oidc-routes';
import { registerRequestRoutes } from './routes/request-routes';
import { registerSessionRoutes } from './routes/session-routes';
import { NO_STORE_HEADERS, SECURITY_HEADERS } from './security-headers';
import { registerStaticAssets } from './static-assets';
import {
  createSessionStore,
  DEFAULT_SESSION_SETTINGS,
  type Session,
  type SessionSettings,
  type SessionStore,
  type EndReason,
} from './sessions';
import { createSignInLimiter, DEFAULT_SIGNIN_LIMITS, type SignInLimits } from './signin-limiter';
import { createWebContext } from './web-context';

export interface WebServerDeps {
  service: Service;
  clock: Clock;
  log: Logger;
  /** The built UI (index.html, app.js, app.css). */
  assetsDir: string;
  tls: { certPem: string; keyPem: string };
  sessions?: Partial<SessionSettings>;
  signInLimits?: Partial<SignInLimits>;
  /** Requests per address per minute over the whole API (default 1200). */
  requestsPerMinute?: number;
  heartbeatMs?: number;
}

export interface WebServer {
  app: FastifyInstance;
  sessions: SessionStore;
  hub: EventHub;
  /** Ends live streams, then closes the server. */
  close(): Promise<void>;
}

/** The built UI next to the bundle (dist/web), or under the repository's dist/ when run from source. */
export function defaultAssetsDir(): string {
  const candidates = [join(__dirname, 'web'), join(__dirname, '..', '..', 'dist', 'web')];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? candidates[0];
}

/** Builds the server (not listening yet). */
export async function createWebServer(deps: WebServerDeps): Promise<WebServer> {
  const { service, clock } = deps;
  const log = deps.log;
  // onEnd runs only after sign-ins, long after `hub` below exists.
  const onEnd = (s: Session, why: EndReason) => {
    hub.closeSession(s, why);
    try {
      service.recordAccessEvent({
        actor: s.operator,
        action: why === 'signed-out' ? 'web.signed_out' : 'web.session_ended',
        outcome: 'ok',
        details: { session: s.ref, why, source: s.source },
      });
    } catch (err) {
      log.error({ err, session: s.ref }, 'cannot audit the end of a web session');
    }
    log.info({ operator: s.operator, session: s.ref, why }, 'web session ended');
  };
  const sessions = createSessionStore(clock, { ...DEFAULT_SESSION_SETTINGS, ...deps.sessions }, onEnd);
  const hub: EventHub = createEventHub({
    service,
    log: log.child({ component: 'web-events' }),
    heartbeatMs: deps.heartbeatMs,
    stillValid: (s) => {
      if (!sessions.alive(s)) return false;
      try {
        service.principalFor(s.operator, 'session', s.source);
        return true;
      } catch {
        sessions.end(s, 'revoked');
        return false;
      }
    },
  });
  const limiter = createSignInLimiter(clock, { ...DEFAULT_SIGNIN_LIMITS, ...deps.signInLimits });
  const web = createWebContext({ service, clock, log, sessions, limiter, hub });

  const app = Fastify({
    https: { key: deps.tls.keyPem, cert: deps.tls.certPem, minVersion: 'TLSv1.2' },
    logger: false,
    bodyLimit: 64 * 1024,
    forceCloseConnections: true,
    trustProxy: false,
    return503OnClosing: true,
  });
  app.removeContentTypeParser('text/plain');

  app.addHook('onSend', async (req, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    if (req.url.startsWith('/api/')) reply.headers(NO_STORE_HEADERS);
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    log.debug(
      {
        method: req.method,
        route: req.routeOptions.url ?? req.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'web request',
    );
  });
  app.setErrorHandler((err, _req, reply) => {
    const { statusCode, body } = errorResponse(err, log);
    if (statusCode === 401 || statusCode === 403)
      log.debug({ code: body.error.code, statusCode }, 'web request refused');
    void reply.code(statusCode).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .type('application/json; charset=utf-8')
      .send({
        error: {
          code: 'FP_NOT_FOUND',
          message: `nothing at ${req.method} ${req.url.split('?')[0].slice(0, 100)}`,
          retryable: false,
        },
      });
  });

  await app.register(fastifyRateLimit, { global: true, max: deps.requestsPerMinute ?? 1200, timeWindow: 60_000 });
  registerStaticAssets(app, deps.assetsDir);

  registerSessionRoutes(app, web);
  registerOidcRoutes(app, web);
  registerFleetRoutes(app, web);
  registerRequestRoutes(app, web);
  registerAuditRoutes(app, web);
  registerEscrowRoutes(app, web);

  const sweeper = setInterval(() => sessions.sweep(), 60_000);
  sweeper.unref();

  return {
    app,
    sessions,
    hub,
    async close() {
      clearInterval(sweeper);
      hub.closeAll('shutdown');
      await app.close();
    },
  };
}
