/** What every domain file of the service layer is built over: the controller's parts and the rules. */
import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import type { AuthConfig } from '../access/auth-config';
import type { FloodLimits } from '../access/authenticate';
import type { RelyingParty } from '../access/oidc-relying-party';
import type { Policy } from '../access/policy';
import { recordAudited, type AuditLog, type VerifyResult } from '../audit';
import type { Dispatcher } from '../dispatch';
import type { EnrollDeps } from '../enroll';
import type { Escrow } from '../escrow';
import type { SessionRegistry } from '../server/node-session';
import type { Store } from '../store';
import { createOperatorsRepo, type OperatorsRepo } from '../store/operators-repo';
import { createRules, type Rules } from './rules';

export interface ServiceDeps {
  store: Store;
  audit: AuditLog;
  dispatcher: Dispatcher;
  sessions: SessionRegistry;
  clock: Clock;
  log: Logger;
  /** Who may act on which accounts, privileged accounts, password rules (config `policy`). */
  policy: Policy;
  /** The controller CA (operator certificates are checked against it). */
  caPem: string;
  /** <stateDir>/audit-checkpoints.log */
  checkpointFile: string;
  /** The whole audit verification with signed checkpoints and witnesses (default: the chain and checkpoint file). */
  verifyAudit?: () => VerifyResult;
  enrollment: EnrollDeps;
  /** The escrow engine; undefined when escrow.enabled is false (its calls answer FP_ACTION_UNSUPPORTED). */
  escrow?: Escrow;
  floodLimits?: Partial<FloodLimits>;
  /** Console sign-in settings (config `auth`). */
  auth: AuthConfig;
  /** The identity provider's relying party, when auth.oidc is set. */
  relyingParty?: RelyingParty;
}

export interface ServiceContext extends ServiceDeps {
  operators: OperatorsRepo;
  rules: Rules;
  /** Runs `fn` and its audit records in one transaction (FP_AUDIT_WRITE_FAILED if it cannot commit). */
  audited<T>(fn: (audit: AuditLog) => T): T;
}

export function createServiceContext(deps: ServiceDeps): ServiceContext {
  const operators = createOperatorsRepo(deps.store.db);
  return {
    ...deps,
    operators,
    rules: createRules({ db: deps.store.db, audit: deps.audit, log: deps.log, operators }),
    audited: (fn) => recordAudited(deps.store.db, () => fn(deps.audit)),
  };
}
