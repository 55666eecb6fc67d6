/**
 * Enrollment tokens for the admin API: the EnrollmentExtension admin-service calls after it has checked
 * the caller's 'enrollment.manage' permission. It maps the proto messages and names the operator as the
 * actor; the rules and the audit live in tokens.ts.
 */
import type { EnrollmentToken } from '../../shared/gen/fleetpass/v1/admin';
import type { EnrollmentExtension } from '../admin/extensions';
import type { EnrollDeps } from './deps';
import { createEnrollmentToken, listEnrollmentTokens, revokeEnrollmentToken, type EnrollmentTokenView } from './tokens';

function toProto(t: EnrollmentTokenView): EnrollmentToken {
  return {
    id: t.id, labels: { ...t.labels }, created: new Date(t.created), expires: new Date(t.expires), used: t.used ? new Date(t.used) : undefined,
    usedByNode: t.usedByNode, createdBy: t.createdBy, revoked: t.revoked !== null, nodeId: t.nodeId,
  };
}

/** The admin API's enrollment-token calls over `deps`. */
export function enrollmentAdminExtension(deps: EnrollDeps): EnrollmentExtension {
  return {
    createToken(principal, input) {
      const created = createEnrollmentToken(deps, { labels: input.labels, ttlSeconds: input.ttlSeconds, nodeId: input.nodeId || undefined, createdBy: principal.name });
      return { token: toProto(created.token), secret: created.secret, caFingerprint: created.caFingerprint };
    },
    listTokens() {
      return { tokens: listEnrollmentTokens(deps).map(toProto) };
    },
    revokeToken(principal, id) {
      return { token: toProto(revokeEnrollmentToken(deps, id, principal.name)) };
    },
  };
}
