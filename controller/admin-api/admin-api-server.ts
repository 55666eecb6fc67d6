/**
 * The admin API's gRPC server: serves AdminService (admin-grpc.ts) over the service layer on
 * `adminListen` with the controller's server certificate. The port asks for a client certificate but does
 * not require one (operators may use a token instead); a presented certificate is checked by the
 * authenticator, never trusted by the TLS layer alone. stop() ends open streams, then stops the server.
 */
import { FleetpassError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import type { ControllerPki } from '../../shared/pki';
import type { ControllerConfig } from '../config';
import { bindServer, createGrpcServer, serverCredentials, stopServer } from '../server/grpc-server';
import type { Service } from '../service';
import { adminServiceRegistration } from './admin-grpc';

export interface AdminApiServer {
  /** host:port the admin API listens on. */
  address: string;
  stop(): Promise<void>;
}

/** Starts the admin API on config.adminListen. */
export async function startAdminApi(o: {
  config: ControllerConfig;
  pki: ControllerPki;
  service: Service;
  log: Logger;
}): Promise<AdminApiServer> {
  const { config, pki, log } = o;
  const streams = new Set<{ end(reason: FleetpassError): void }>();
  const server = createGrpcServer(
    {
      keepaliveTimeSeconds: config.keepalive.timeSeconds,
      keepaliveTimeoutSeconds: config.keepalive.timeoutSeconds,
      maxMessageBytes: config.maxMessageBytes,
      log,
    },
    [adminServiceRegistration({ service: o.service, log, streams })],
  );
  const listen = config.adminListen;
  const port = await bindServer(
    server,
    listen,
    serverCredentials({
      caPem: pki.ca.certPem,
      certPem: pki.server.certPem,
      keyPem: pki.server.keyPem,
      requireClientCert: false,
      handshakeTimeoutMs: config.tls.handshakeTimeoutSeconds * 1000,
    }),
  );
  const address = `${listen.slice(0, listen.lastIndexOf(':'))}:${port}`;
  log.info({ address }, 'admin api listening');
  return {
    address,
    async stop() {
      for (const s of [...streams]) s.end(new FleetpassError('FP_SHUTTING_DOWN'));
      await stopServer(server, 3000);
      o.service.flushAuthAudit();
    },
  };
}
