/**
 * Operator lifecycle: create, disable (which also revokes every token), and the name rules. Each change
 * is recorded in the audit log in the same transaction. Who may call these is decided by the service layer (controller/service);
 * the local bootstrap command calls them directly.
 */
import { FleetpassError } from '../../shared/errors';
import type { AuditLog } from '../audit';
import type { OperatorRecord, OperatorRole, OperatorsRepo } from '../store/operators-repo';

/** Lower-case letters, digits, ".", "_", "-", starting with a letter; no ":" so no operator looks like "node:x". */
const OPERATOR_NAME = /^[a-z][a-z0-9._-]{0,63}$/;
const RESERVED = new Set(['controller', 'system', 'root', 'unauthenticated', 'anonymous']);

/** Returns `name` when it is a valid operator name; throws FP_OPERATOR_NAME_INVALID otherwise. */
export function assertOperatorName(name: unknown): string {
  if (typeof name !== 'string' || !OPERATOR_NAME.test(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 40)) : typeof name;
    throw new FleetpassError(
      'FP_OPERATOR_NAME_INVALID',
      `an operator name must be 1-64 lower-case letters, digits, ".", "_" or "-", starting with a letter; got ${shown}`,
    );
  }
  if (RESERVED.has(name))
    throw new FleetpassError('FP_OPERATOR_NAME_INVALID', `"${name}" is reserved; choose another operator name`);
  return name;
}

export interface OperatorDeps {
  repo: OperatorsRepo;
  /** Runs `fn` and its audit records in one transaction (recordAudited over the audit log). */
  audited: <T>(fn: (audit: AuditLog) => T) => T;
  now: () => Date;
}

/** Adds an operator; FP_OPERATOR_EXISTS when the name is taken (disabled operators keep their name). */
export function createOperator(
  deps: OperatorDeps,
  input: { name: string; role: OperatorRole; by: string },
): OperatorRecord {
  const name = assertOperatorName(input.name);
  const now = deps.now().toISOString();
  return deps.audited((audit) => {
    if (deps.repo.get(name))
      throw new FleetpassError('FP_OPERATOR_EXISTS', `an operator named "${name}" already exists`);
    deps.repo.insert(name, input.role, input.by, now);
    audit.append({
      actor: input.by,
      action: 'operator.created',
      outcome: 'ok',
      details: { operator: name, role: input.role },
    });
    return deps.repo.get(name)!;
  });
}

/** Disables an operator and revokes their tokens; the last enabled admin cannot be disabled. */
export function disableOperator(deps: OperatorDeps, input: { name: string; by: string }): OperatorRecord {
  const name = assertOperatorName(input.name);
  const now = deps.now().toISOString();
  return deps.audited((audit) => {
    const op = deps.repo.get(name);
    if (!op) throw new FleetpassError('FP_NOT_FOUND', `no operator named "${name}"`);
    if (op.disabled) return op;
    if (op.role === 'admin' && deps.repo.adminCount() <= 1) throw new FleetpassError('FP_LAST_ADMIN');
    deps.repo.setDisabled(name, true, now);
    const tokens = deps.repo.revokeTokensOf(name);
    audit.append({
      actor: input.by,
      action: 'operator.disabled',
      outcome: 'ok',
      details: { operator: name, tokensRevoked: tokens },
    });
    return deps.repo.get(name)!;
  });
}
