/**
 * The admin API as a controller plugin: builds the admin service over the running controller and serves
 * AdminService on `adminListen` with the controller's server certificate. The port asks for a client
 * certificate but does not require one (operators may use a token instead); a presented certificate is
 * checked by the authenticator, never trusted by the TLS layer alone. Shutdown ends open streams, then
 * stops the server.
 */
import type { Server } from '@grpc/grpc-js';
import { FleetpassError } from '../../shared/errors';
import type { ControllerContext, ControllerPlugin } from '../controller';
import { bindServer, createGrpcServer, serverCredentials, stopServer } from '../server/grpc-server';
import { enrollmentAdminExtension } from '../enroll/admin-extension';
import { adminServiceRegistration } from './admin-grpc';
import { createAdminService, type AdminService } from './admin-service';
import type { FloodLimits } from './authenticate';
import type { AdminExtensions } from './extensions';
import { compilePolicy } from './policy';

export interface AdminApiOptions {
  /** Enrollment and escrow implementations, built over the running controller. */
  extensions?: (ctx: ControllerContext) => AdminExtensions;
  floodLimits?: Partial<FloodLimits>;
}

export interface AdminApiPlugin extends ControllerPlugin {
  /** The authorized service (the web console calls the same functions); available once started. */
  service(): AdminService;
  /** host:port the admin API listens on; available once started. */
  address(): string;
}

/** Builds the admin service over a running controller's context. */
export function createAdminServiceFor(ctx: ControllerContext, options: AdminApiOptions = {}): AdminService {
  return createAdminService({
    service: ctx.service, db: ctx.store.db, clock: ctx.clock, log: ctx.log.child({ component: 'admin' }), policy: compilePolicy(ctx.config.policy),
    caPem: ctx.pki.ca.certPem, extensions: { enrollment: enrollmentAdminExtension(ctx.enrollment.deps), ...options.extensions?.(ctx) }, floodLimits: options.floodLimits,
  });
}

/** The admin API plugin; pass it in ControllerDeps.plugins. */
export function adminApiPlugin(options: AdminApiOptions = {}): AdminApiPlugin {
  let server: Server | undefined;
  let admin: AdminService | undefined;
  let bound: string | undefined;
  const streams = new Set<{ end(reason: FleetpassError): void }>();
  return {
    name: 'admin-api',
    async start(ctx) {
      admin = createAdminServiceFor(ctx, options);
      const log = ctx.log.child({ component: 'admin-api' });
      server = createGrpcServer(
        { keepaliveTimeSeconds: ctx.config.keepalive.timeSeconds, keepaliveTimeoutSeconds: ctx.config.keepalive.timeoutSeconds, maxMessageBytes: ctx.config.maxMessageBytes, log },
        [adminServiceRegistration({ admin, log, streams })],
      );
      const listen = ctx.config.adminListen;
      // The same optional client certificate as the agent port: asked for, not required; the authenticator decides.
      const port = await bindServer(server, listen, serverCredentials({ caPem: ctx.pki.ca.certPem, certPem: ctx.pki.server.certPem, keyPem: ctx.pki.server.keyPem, requireClientCert: false }));
      bound = `${listen.slice(0, listen.lastIndexOf(':'))}:${port}`;
      log.info({ address: bound }, 'admin api listening');
    },
    async shutdown() {
      for (const s of [...streams]) s.end(new FleetpassError('FP_SHUTTING_DOWN'));
      if (server) await stopServer(server, 3000);
      admin?.flushAuthAudit();
    },
    service() {
      if (!admin) throw new FleetpassError('FP_UNAVAILABLE', 'the admin API has not started');
      return admin;
    },
    address() {
      if (!bound) throw new FleetpassError('FP_UNAVAILABLE', 'the admin API has not started');
      return bound;
    },
  };
}
