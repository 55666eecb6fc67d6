/**
 * Node enrollment and certificates: one-time tokens (admin), Enroll and Renew (agent port), the node
 * identity check on every Connect, and certificate revocation. `createEnrollment` builds it over the
 * running controller's parts; the controller wires its handlers into the agent port and the admin API
 * calls its token functions.
 */
import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import type { ControllerPki } from '../../shared/pki';
import { recordAudited, type AuditLog } from '../audit';
import type { EventBus } from '../dispatch';
import type { SessionRegistry } from '../server/node-session';
import type { Store } from '../store';
import { createEnrollmentRepo } from '../store/enrollment-repo';
import { enrollHandler, identifyNode, renewHandler } from './agent-handlers';
import { DEFAULT_ENROLL_SETTINGS, type EnrollDeps, type EnrollSettings } from './deps';
import { createRateLimiter } from './rate-limit';

export { DEFAULT_ENROLL_SETTINGS, type EnrollDeps, type EnrollSettings } from './deps';
export { enroll, type EnrollInput, type EnrollResult } from './enroll';
export { renew, type RenewResult } from './renew';
export {
  createEnrollmentToken,
  listEnrollmentTokens,
  revokeEnrollmentToken,
  enrollmentTokenId,
  type CreateEnrollmentTokenInput,
  type CreatedEnrollmentToken,
  type EnrollmentTokenView,
} from './tokens';
export { verifyPeerCertificate, type VerifiedPeer } from './peer-certificate';
export { assertNodeId, nodeIdFromHostname, nodeIdProblem } from './node-id';

export interface Enrollment {
  deps: EnrollDeps;
  handlers: { enroll: ReturnType<typeof enrollHandler>; renew: ReturnType<typeof renewHandler> };
  identify: ReturnType<typeof identifyNode>;
  /** Stops listening for node revocations. */
  shutdown(): void;
}

export interface CreateEnrollmentOptions {
  store: Store;
  audit: AuditLog;
  pki: ControllerPki;
  sessions: SessionRegistry;
  events: EventBus;
  clock: Clock;
  log: Logger;
  settings?: Partial<EnrollSettings>;
}

/** Builds enrollment over the controller's parts; revoking a node (service/nodes.ts) also revokes its certificates. */
export function createEnrollment(o: CreateEnrollmentOptions): Enrollment {
  const settings = { ...DEFAULT_ENROLL_SETTINGS, ...o.settings };
  const deps: EnrollDeps = {
    store: o.store,
    repo: createEnrollmentRepo(o.store.db),
    audit: o.audit,
    ca: o.pki.ca,
    caFingerprint: o.pki.caFingerprint,
    sessions: o.sessions,
    events: o.events,
    clock: o.clock,
    log: o.log,
    settings,
    tokenFailures: createRateLimiter({
      maxFailures: settings.maxTokenFailures,
      windowSeconds: settings.tokenFailureWindowSeconds,
      clock: o.clock,
    }),
    renewals: createRateLimiter({
      maxFailures: settings.maxRenewals,
      windowSeconds: settings.renewalWindowSeconds,
      clock: o.clock,
    }),
  };
  // The node row's revoked flag already refuses it; this also marks each certificate, so the record says
  // which ones and a later re-enrollment never brings them back.
  const unsubscribe = o.events.subscribe((e) => {
    if (e.type !== 'node' || e.change !== 'revoked') return;
    try {
      const count = recordAudited(o.store.db, () =>
        deps.repo.revokeCertificatesOf(e.node.id, 'node revoked', o.clock.now().toISOString()),
      );
      o.log.info({ nodeId: e.node.id, certificates: count }, 'node certificates revoked');
    } catch (err) {
      o.log.error(
        { err, nodeId: e.node.id },
        'cannot mark the certificates of a revoked node; the node stays refused by its revoked flag',
      );
    }
  });
  return {
    deps,
    handlers: { enroll: enrollHandler(deps), renew: renewHandler(deps) },
    identify: identifyNode(deps),
    shutdown: unsubscribe,
  };
}
