/**
 * Enrollment tokens: create (shown once), list, revoke, all with 'enrollment.manage'; the operator is the
 * actor of the audit record tokens.ts writes. Enroll and Renew themselves are the agent port's
 * (controller/enroll), where the caller is a node, not an operator.
 */
import type { Principal } from '../access/authenticate';
import {
  createEnrollmentToken,
  listEnrollmentTokens,
  revokeEnrollmentToken,
  type CreatedEnrollmentToken,
  type EnrollmentTokenView,
} from '../enroll';
import type { ServiceContext } from './context';

export function enrollmentService(ctx: ServiceContext) {
  const { rules, enrollment } = ctx;
  return {
    /** `ttlSeconds` 0 or absent: the default lifetime; `nodeId` pins the node id the token may enroll. */
    createEnrollmentToken(
      p: Principal,
      input: { labels?: Record<string, string>; ttlSeconds?: number; nodeId?: string },
    ): CreatedEnrollmentToken {
      rules.authorize(p, 'enrollment.manage', 'creating enrollment tokens');
      return createEnrollmentToken(enrollment, {
        labels: input.labels,
        ttlSeconds: input.ttlSeconds,
        nodeId: input.nodeId || undefined,
        createdBy: p.name,
      });
    },
    listEnrollmentTokens(p: Principal): EnrollmentTokenView[] {
      rules.authorize(p, 'enrollment.manage', 'listing enrollment tokens');
      return listEnrollmentTokens(enrollment);
    },
    revokeEnrollmentToken(p: Principal, id: string): EnrollmentTokenView {
      rules.authorize(p, 'enrollment.manage', 'revoking enrollment tokens');
      return revokeEnrollmentToken(enrollment, id, p.name);
    },
  };
}
