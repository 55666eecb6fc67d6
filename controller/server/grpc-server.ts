/**
 * grpc-js server plumbing shared by the agent port (and the admin port, issue 6): TLS credentials
 * (client certificate required for agents), HTTP/2 keepalive so a dead peer is dropped in bounded time
 * (keepalive time + timeout), the receive size limit, binding, and a graceful stop with a deadline.
 */
import { experimental, Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { FleetpassError } from '../../shared/errors';

export interface ServerTls {
  caPem: string;
  certPem: string;
  keyPem: string;
  /**
   * true: require and verify a client certificate signed by the CA (mutual TLS). false: ask for one
   * without requiring it; grpc-js reports it to handlers (getAuthContext) only when it verified against
   * the CA, and each handler that needs one must refuse a call without it (the agent port: Enroll is
   * the one call made before a node has a certificate).
   */
  requireClientCert: boolean;
}

export interface GrpcServerSettings {
  keepaliveTimeSeconds: number;
  keepaliveTimeoutSeconds: number;
  maxMessageBytes: number;
}

export interface ServiceRegistration {
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

/** A server with keepalive and size limits, with the given services registered. */
export function createGrpcServer(settings: GrpcServerSettings, services: readonly ServiceRegistration[]): Server {
  const server = new Server({
    'grpc.keepalive_time_ms': settings.keepaliveTimeSeconds * 1000,
    'grpc.keepalive_timeout_ms': settings.keepaliveTimeoutSeconds * 1000,
    'grpc.max_receive_message_length': settings.maxMessageBytes,
    'grpc.max_send_message_length': settings.maxMessageBytes,
  });
  for (const s of services) server.addService(s.definition, s.implementation);
  return server;
}

export function serverCredentials(tls: ServerTls): ServerCredentials {
  if (!tls.requireClientCert) {
    // createSsl(..., false) would not even ask for a client certificate; this asks and verifies, but lets the call through.
    // grpc-js registers its watcher only after adding these listeners, so they answer on the next tick:
    // answered at once, the material would reach no watcher and every handshake would be dropped.
    const provider: experimental.CertificateProvider = {
      addCaCertificateListener: (l) => queueMicrotask(() => l({ caCertificate: Buffer.from(tls.caPem) })),
      removeCaCertificateListener: () => undefined,
      addIdentityCertificateListener: (l) => queueMicrotask(() => l({ certificate: Buffer.from(tls.certPem), privateKey: Buffer.from(tls.keyPem) })),
      removeIdentityCertificateListener: () => undefined,
    };
    return experimental.createCertificateProviderServerCredentials(provider, provider, false);
  }
  return ServerCredentials.createSsl(
    Buffer.from(tls.caPem),
    [{ cert_chain: Buffer.from(tls.certPem), private_key: Buffer.from(tls.keyPem) }],
    tls.requireClientCert,
  );
}

/** Binds `address` (host:port, port 0 picks one); resolves to the bound port. */
export function bindServer(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => {
      if (err) reject(new FleetpassError('FP_UNAVAILABLE', `cannot listen on ${address}: ${err.message}`, { cause: err, details: { address } }));
      else resolve(port);
    });
  });
}

/** Stops accepting, lets open calls finish for up to `graceMs`, then cuts what is left. */
export function stopServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
