/**
 * PLACEHOLDER for password escrow (issue 12): reveal with a reason, rotation schedule, last/next
 * rotation per account. The escrow extension plugs into admin-service (controller/admin/extensions.ts);
 * until it exists admin-service answers FP_ACTION_UNSUPPORTED and the console says so. The escrow helper
 * adds `POST /api/escrow/reveal` (change: CSRF, no-store, shown once like a generated password) and
 * `POST /api/escrow/rotate` here, each one admin-service call.
 */
import type { FastifyInstance } from 'fastify';
import { isFleetpassError } from '../../../shared/errors';
import type { WebContext } from '../web-context';

export function registerEscrowRoutes(app: FastifyInstance, web: WebContext): void {
  app.get('/api/escrow/status', async (req) => {
    const { principal } = web.auth(req, 'read');
    try {
      const r = await web.admin.escrowStatus(principal, { selector: undefined });
      return { available: true, entries: r.entries };
    } catch (e) {
      if (isFleetpassError(e) && e.code === 'FP_ACTION_UNSUPPORTED') return { available: false, message: e.message, entries: [] };
      throw e;
    }
  });
}
