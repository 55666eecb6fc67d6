/**
 * The audit of a refusal, written once for every caller that refuses an operator (the service layer's
 * role and second-person checks, escrow's own policy): one `access.denied` record in its own transaction,
 * and a warning in the log. Fail closed either way: the caller is refused whether or not the record could
 * be written.
 */
import type { FleetpassError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import { recordAudited, type AuditLog } from '../audit';
import type { Db } from '../store';
import type { Principal } from './authenticate';

/** What a refusal record names besides the operator and the code. */
export interface RefusalFacts {
  requestId?: string;
  nodeId?: string;
  account?: string;
  reason?: string;
  details?: Record<string, unknown>;
}

export interface RefusalDeps {
  db: Db;
  audit: AuditLog;
  log: Logger;
}

/** Audits `p` being refused `what` with `error`, and returns the error to throw. */
export function recordRefusal(
  deps: RefusalDeps,
  p: Principal,
  what: string,
  error: FleetpassError,
  facts: RefusalFacts = {},
): FleetpassError {
  try {
    recordAudited(deps.db, () =>
      deps.audit.append({
        actor: p?.name ?? 'unauthenticated',
        action: 'access.denied',
        outcome: 'refused',
        requestId: facts.requestId,
        nodeId: facts.nodeId,
        account: facts.account,
        reason: facts.reason,
        details: { what, code: error.code, role: p?.role, via: p?.via, ...facts.details },
      }),
    );
  } catch (err) {
    deps.log.error({ err, what, operator: p?.name }, 'cannot audit a refusal');
  }
  deps.log.warn({ operator: p?.name, role: p?.role, what, code: error.code }, 'call refused');
  return error;
}
