/**
 * The web console's server, started by the composition root when web.enabled: serves the console over
 * HTTPS on `webListen` with the controller's server certificate (or a configured certificate and key),
 * over the SAME service layer as the gRPC AdminService. stop() ends live streams and stops the server;
 * sessions live in memory, so a restart signs everyone out.
 */
import { readFileSync } from 'node:fs';
import type { Clock } from '../../shared/clock';
import { FleetpassError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import type { ControllerPki } from '../../shared/pki';
import type { Service } from '../service';
import type { SessionSettings } from './sessions';
import type { SignInLimits } from './signin-limiter';
import { createWebServer, defaultAssetsDir, type WebServer } from './web-server';

/** What tests (and a deployment with its own certificate) may set beyond the config. */
export interface WebConsoleOptions {
  /** A certificate and key (PEM files) instead of the controller's own server certificate. */
  tls?: { certFile: string; keyFile: string };
  /** Where the built UI lives (default dist/web next to the bundle). */
  assetsDir?: string;
  sessions?: Partial<SessionSettings>;
  signInLimits?: Partial<SignInLimits>;
  requestsPerMinute?: number;
  heartbeatMs?: number;
}

export interface WebConsole {
  /** https://host:port of the console. */
  url: string;
  /** The running server (tests reach sessions and the event hub through it). */
  server: WebServer;
  stop(): Promise<void>;
}

function readTls(files: { certFile: string; keyFile: string }): { certPem: string; keyPem: string } {
  try {
    return { certPem: readFileSync(files.certFile, 'utf8'), keyPem: readFileSync(files.keyFile, 'utf8') };
  } catch (e) {
    throw new FleetpassError(
      'FP_TLS_MATERIAL',
      `cannot read the web console certificate or key (${files.certFile}, ${files.keyFile}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { cause: e },
    );
  }
}

/** Starts the console on `listen`. */
export async function startWebConsole(o: {
  listen: string;
  pki: ControllerPki;
  service: Service;
  clock: Clock;
  log: Logger;
  options?: WebConsoleOptions;
}): Promise<WebConsole> {
  const options = o.options ?? {};
  const tls = options.tls ? readTls(options.tls) : { certPem: o.pki.server.certPem, keyPem: o.pki.server.keyPem };
  const web = await createWebServer({
    service: o.service,
    clock: o.clock,
    log: o.log,
    tls,
    assetsDir: options.assetsDir ?? defaultAssetsDir(),
    sessions: options.sessions,
    signInLimits: options.signInLimits,
    requestsPerMinute: options.requestsPerMinute,
    heartbeatMs: options.heartbeatMs,
  });
  const host = o.listen.slice(0, o.listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  const port = Number(o.listen.slice(o.listen.lastIndexOf(':') + 1));
  await web.app.listen({ host, port });
  const bound = (web.app.server.address() as { port: number }).port;
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  o.log.info({ url }, 'web console listening');
  return { url, server: web, stop: () => web.close() };
}
