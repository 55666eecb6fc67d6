/**
 * The first admin, made by a LOCAL command on the controller host (whoever can open the data file is
 * trusted with it), never over the network: creates the operator (or, with force, makes an existing one
 * an enabled admin again) and an API token, both audited in one transaction. Refuses when an enabled
 * admin exists unless forced.
 */
import { userInfo } from 'node:os';
import type { Clock } from '../../shared/clock';
import { FleetpassError } from '../../shared/errors';
import { recordAudited, createAuditLog } from '../audit';
import type { Db } from '../store';
import { createOperatorsRepo } from '../store/operators-repo';
import { issueApiToken, type IssuedToken } from './api-tokens';
import { assertOperatorName } from './operators';

export interface BootstrapInput {
  name: string;
  force?: boolean;
  /** Token lifetime; 0 means the default (90 days). */
  ttlSeconds?: number;
}

/** The audit actor for local commands: "local:<unix user>" (a ":" no operator name can contain). */
export function localActor(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry for this uid
  }
  return `local:${user}`;
}

/** Creates the first admin and their token; FP_ADMIN_EXISTS when an enabled admin exists and not forced. */
export function bootstrapAdmin(db: Db, clock: Clock, input: BootstrapInput): IssuedToken & { operator: string; replaced: boolean } {
  const name = assertOperatorName(input.name);
  const repo = createOperatorsRepo(db);
  const audit = createAuditLog(db, clock);
  const actor = localActor();
  const ttl = input.ttlSeconds || 90 * 86_400;
  return recordAudited(db, () => {
    const admins = repo.adminCount();
    if (admins > 0 && !input.force) {
      throw new FleetpassError('FP_ADMIN_EXISTS', `${admins} enabled admin(s) already exist; ask one of them for an account, or run again with --force on the controller host`);
    }
    const now = clock.now();
    const existing = repo.get(name);
    if (existing && !input.force) throw new FleetpassError('FP_OPERATOR_EXISTS', `an operator named "${name}" already exists; add --force to make them an admin again`);
    if (existing) repo.setRoleEnabled(name, 'admin', now.toISOString());
    else repo.insert(name, 'admin', actor, now.toISOString());
    const issued = issueApiToken(repo, name, { createdBy: actor, ttlSeconds: ttl, now });
    audit.append({
      actor, action: 'operator.bootstrapped', outcome: 'ok',
      details: { operator: name, role: 'admin', forced: !!input.force, replacedExisting: !!existing, enabledAdminsBefore: admins, tokenId: issued.id, expires: issued.expires?.toISOString() ?? '' },
    });
    return { ...issued, operator: name, replaced: !!existing };
  });
}
