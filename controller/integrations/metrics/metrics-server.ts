/**
 * The monitoring listener at `metricsListen`: GET /metrics (Prometheus text format), /healthz (the
 * process is up) and /readyz (200 when ready, 503 with the reasons as JSON otherwise). Plain HTTP on
 * loopback by default; with metrics.clientCaFile it serves HTTPS with the controller's server
 * certificate and requires a client certificate from that CA (mutual TLS); with metrics.bearerTokenFile
 * every request must carry the token. Nothing here changes state except the readiness write probe.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { FleetpassError } from '../../../shared/errors';
import type { Logger } from '../../../shared/logger';
import type { Readiness } from './readiness';

export interface MetricsServerOptions {
  listen: string;
  /** Required on every request when set. */
  bearerToken?: string;
  /** Serve HTTPS and require a client certificate signed by `clientCaPem`. */
  tls?: { certPem: string; keyPem: string; clientCaPem: string };
  render(): Promise<string>;
  contentType: string;
  readiness(): Readiness;
  log: Logger;
}

export interface MetricsServer {
  /** http(s)://host:port once listening. */
  url(): string;
  close(): Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

const json = (res: ServerResponse, status: number, v: unknown) =>
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(v)}\n`);

export async function startMetricsServer(o: MetricsServerOptions): Promise<MetricsServer> {
  const expected = o.bearerToken ? digest(o.bearerToken) : undefined;
  const authorized = (req: IncomingMessage): boolean => {
    if (!expected) return true;
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    return m !== null && timingSafeEqual(digest(m[1]), expected);
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      route(req, res);
    } catch (err) {
      o.log.error({ err, path: req.url }, 'monitoring request failed');
      if (!res.headersSent)
        json(res, 500, { code: 'FP_INTERNAL', message: 'the check failed; see the controller log' });
    }
  };
  const route = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (!authorized(req)) {
      res.setHeader('www-authenticate', 'Bearer');
      return json(res, 401, { code: 'FP_UNAUTHENTICATED', message: 'a valid bearer token is required' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return json(res, 405, { code: 'FP_INVALID_ARGUMENT', message: 'only GET is served here' });
    if (path === '/healthz') return json(res, 200, { status: 'up' });
    if (path === '/readyz') {
      const r = o.readiness();
      return json(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', ...r });
    }
    if (path === '/metrics') {
      o.render().then(
        (text) => send(res, 200, o.contentType, text),
        (err: unknown) => {
          o.log.error({ err }, 'metrics collection failed');
          json(res, 500, { code: 'FP_INTERNAL', message: 'metrics collection failed; see the controller log' });
        },
      );
      return;
    }
    json(res, 404, { code: 'FP_NOT_FOUND', message: 'served here: /metrics, /healthz, /readyz' });
  };
  const server: Server = o.tls
    ? createHttpsServer(
        {
          cert: o.tls.certPem,
          key: o.tls.keyPem,
          ca: o.tls.clientCaPem,
          requestCert: true,
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
        },
        handle,
      )
    : createHttpServer(handle);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const host = o.listen.slice(0, o.listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  const port = Number(o.listen.slice(o.listen.lastIndexOf(':') + 1));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new FleetpassError(
          'FP_CONFIG_INVALID',
          `metricsListen ${o.listen}: cannot listen there (${err.code ?? err.message}); choose another address or set metrics.enabled: false`,
          { cause: err },
        ),
      ),
    );
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      server.on('error', (err) => o.log.error({ err }, 'metrics listener error'));
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const url = `${o.tls ? 'https' : 'http'}://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  o.log.info({ url, tls: Boolean(o.tls), bearerToken: Boolean(o.bearerToken) }, 'metrics listening');
  return {
    url: () => url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
