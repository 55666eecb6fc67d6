/**
 * The controller's ONE service layer: every function the gRPC AdminService, the web console and the
 * demo call, `(principal, input)` in domain types, one file per domain. The rules (roles, the account
 * policy, the second person, reasons, refusal audit, fail closed) are applied here once (rules.ts);
 * transports only map their wire format to these calls and back.
 */
import { auditService } from './audit';
import { createServiceContext, type ServiceDeps } from './context';
import { enrollmentService } from './enrollment';
import { escrowService } from './escrow';
import { nodesService } from './nodes';
import { operatorsService } from './operators';
import { requestsService } from './requests';
import { signInService } from './sign-in';

export type { ServiceDeps } from './context';
export type { AccountListing, NodeDetail, PendingOperation, AccountHistory } from './nodes';
export type { RequestOperationsResult, WatchUpdate } from './requests';
export type { RequestOperationsInput, PasswordChoice } from './request-plan';
export type { AccessEvent } from './audit';
export type { SignInOptions, DeviceLoginResult } from './sign-in';
export type { RevealAsk, RotateAsk } from './escrow';
export { DEFAULT_TOKEN_TTL_SECONDS, MAX_TOKEN_TTL_SECONDS } from './operators';
export type { Principal, Credentials } from '../access/authenticate';

export type Service = ReturnType<typeof createService>;

/** Builds the service layer over the controller's parts. */
export function createService(deps: ServiceDeps) {
  const ctx = createServiceContext(deps);
  return {
    ...operatorsService(ctx),
    ...nodesService(ctx),
    ...requestsService(ctx),
    ...auditService(ctx),
    ...enrollmentService(ctx),
    ...escrowService(ctx),
    ...signInService(ctx),
    /** Who may act on which accounts (read by transports that show it, e.g. privileged flags). */
    policy: deps.policy,
  };
}
