/**
 * The web console as a controller plugin: serves the console over HTTPS on `webListen` with the
 * controller's server certificate (or a configured certificate and key), using the SAME admin service
 * instance as the gRPC AdminService (pass the admin plugin's `service`). Register it after the admin
 * plugin. Shutdown ends live streams and stops the server; sessions live in memory, so a restart signs
 * everyone out.
 */
import { readFileSync } from 'node:fs';
import { FleetpassError } from '../../shared/errors';
import type { AdminService } from '../admin/admin-service';
import type { ControllerPlugin } from '../controller';
import type { SessionSettings } from './sessions';
import type { SignInLimits } from './signin-limiter';
import { createWebServer, defaultAssetsDir, type WebServer } from './web-server';

export interface WebConsoleOptions {
  /** The admin plugin's service (admin-plugin `service()`); called once the controller starts plugins. */
  admin: () => AdminService;
  /** A certificate and key (PEM files) instead of the controller's own server certificate. */
  tls?: { certFile: string; keyFile: string };
  /** Where the built UI lives (default dist/web next to the bundle). */
  assetsDir?: string;
  sessions?: Partial<SessionSettings>;
  signInLimits?: Partial<SignInLimits>;
  requestsPerMinute?: number;
  heartbeatMs?: number;
}

export interface WebConsolePlugin extends ControllerPlugin {
  /** https://host:port of the console; available once started. */
  url(): string;
  /** The running server (tests reach sessions and the event hub through it). */
  server(): WebServer;
}

function readTls(files: { certFile: string; keyFile: string }): { certPem: string; keyPem: string } {
  try {
    return { certPem: readFileSync(files.certFile, 'utf8'), keyPem: readFileSync(files.keyFile, 'utf8') };
  } catch (e) {
    throw new FleetpassError('FP_TLS_MATERIAL', `cannot read the web console certificate or key (${files.certFile}, ${files.keyFile}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** The web console plugin; pass it in ControllerDeps.plugins after the admin API plugin. */
export function webConsolePlugin(options: WebConsoleOptions): WebConsolePlugin {
  let web: WebServer | undefined;
  let url: string | undefined;
  return {
    name: 'web-console',
    async start(ctx) {
      const log = ctx.log.child({ component: 'web' });
      const tls = options.tls ? readTls(options.tls) : { certPem: ctx.pki.server.certPem, keyPem: ctx.pki.server.keyPem };
      web = await createWebServer({
        admin: options.admin(), service: ctx.service, db: ctx.store.db, clock: ctx.clock, log, tls,
        assetsDir: options.assetsDir ?? defaultAssetsDir(), sessions: options.sessions, signInLimits: options.signInLimits,
        requestsPerMinute: options.requestsPerMinute, heartbeatMs: options.heartbeatMs,
      });
      const listen = ctx.config.webListen;
      const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
      const port = Number(listen.slice(listen.lastIndexOf(':') + 1));
      await web.app.listen({ host, port });
      const bound = (web.app.server.address() as { port: number }).port;
      url = `https://${host.includes(':') ? `[${host}]` : host}:${bound}`;
      log.info({ url }, 'web console listening');
    },
    async shutdown() {
      await web?.close();
    },
    url() {
      if (!url) throw new FleetpassError('FP_UNAVAILABLE', 'the web console has not started');
      return url;
    },
    server() {
      if (!web) throw new FleetpassError('FP_UNAVAILABLE', 'the web console has not started');
      return web;
    },
  };
}
