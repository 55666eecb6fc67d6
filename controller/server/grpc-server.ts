/**
 * grpc-js server plumbing shared by the agent port (and the admin port, issue 6): TLS credentials
 * (client certificate required for agents), HTTP/2 keepalive so a dead peer is dropped in bounded time
 * (keepalive time + timeout), the receive size limit, binding, and a graceful stop with a deadline.
 */
import {
  experimental,
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { FleetpassError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';

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
  /** A connection whose TLS handshake has not finished this long after it was accepted is closed (default 10 s). */
  handshakeTimeoutMs?: number;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface GrpcServerSettings {
  keepaliveTimeSeconds: number;
  keepaliveTimeoutSeconds: number;
  maxMessageBytes: number;
  /** Where malformed messages are reported (grpc-js refuses them before any handler runs). */
  log?: Logger;
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
  for (const s of services)
    server.addService(settings.log ? reportingMalformed(s.definition, settings.log) : s.definition, s.implementation);
  return server;
}

/**
 * The definition with each request decoder wrapped so a message that is not valid protobuf leaves a log
 * line (method and size; never the bytes) before grpc-js ends the call with INTERNAL.
 */
function reportingMalformed(definition: ServiceDefinition, log: Logger): ServiceDefinition {
  const out: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(definition)) {
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return method.requestDeserialize(bytes);
        } catch (err) {
          log.warn(
            { method: method.path, bytes: bytes.length, problem: (err as Error).message.slice(0, 200) },
            'malformed message refused',
          );
          throw err;
        }
      },
    };
  }
  return out as ServiceDefinition;
}

export function serverCredentials(tls: ServerTls): ServerCredentials {
  return withHandshakeTimeout(tlsCredentials(tls), tls.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS);
}

/**
 * grpc-js has no public TLS handshake timeout, so a client that opens TCP connections and never finishes
 * (or never starts) the handshake holds a socket and TLS state for Node's default of 120 s; hundreds of
 * them exhaust the port. Node's own `handshakeTimeout` option of tls.Server closes such a connection (its
 * timer starts when the socket is accepted and stops once the handshake is done, so a connected agent is
 * never affected). grpc-js hands the credentials' constructor options to http2.createSecureServer as
 * they are (server.js createHttp2Server), so the option is added there: one documented Node option on
 * one object, rather than our own accept loop and connection injection in front of grpc-js. If a grpc-js
 * upgrade stops exposing that object, starting fails loudly here; test/hostile/agent-port.test.ts holds
 * the behaviour (half-open connections are closed, a real agent still connects).
 */
function withHandshakeTimeout(creds: ServerCredentials, ms: number): ServerCredentials {
  const options = (
    creds as unknown as { _getConstructorOptions?: () => Record<string, unknown> | null }
  )._getConstructorOptions?.();
  if (!options || typeof options !== 'object')
    throw new FleetpassError('FP_INTERNAL', 'grpc-js no longer exposes the TLS server options (handshake timeout)');
  options.handshakeTimeout = ms;
  return creds;
}

function tlsCredentials(tls: ServerTls): ServerCredentials {
  if (!tls.requireClientCert) {
    // createSsl(..., false) would not even ask for a client certificate; this asks and verifies, but lets the call through.
    // grpc-js registers its watcher only after adding these listeners, so they answer on the next tick:
    // answered at once, the material would reach no watcher and every handshake would be dropped.
    const provider: experimental.CertificateProvider = {
      addCaCertificateListener: (l) => queueMicrotask(() => l({ caCertificate: Buffer.from(tls.caPem) })),
      removeCaCertificateListener: () => undefined,
      addIdentityCertificateListener: (l) =>
        queueMicrotask(() => l({ certificate: Buffer.from(tls.certPem), privateKey: Buffer.from(tls.keyPem) })),
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
      if (err)
        reject(
          new FleetpassError('FP_UNAVAILABLE', `cannot listen on ${address}: ${err.message}`, {
            cause: err,
            details: { address },
          }),
        );
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
