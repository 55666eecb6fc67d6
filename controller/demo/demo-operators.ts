/**
 * Demo operators: an admin (created like `fleetpass-controller bootstrap-admin`) and an approver, each
 * with an API token in a 0600 file, and a CLI config per operator so the printed commands just work.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { Clock } from '../../shared/clock';
import { writeSecureFile } from '../../shared/pki';
import { issueApiToken, checkApiToken } from '../access/api-tokens';
import { createOperator } from '../access/operators';
import { recordAudited, type AuditLog } from '../audit';
import { bootstrapAdmin } from '../commands/bootstrap-admin';
import type { Db } from '../store';
import { createOperatorsRepo, type OperatorRole } from '../store/operators-repo';

const ACTOR = 'local:demo';

export interface DemoOperator {
  name: string;
  role: OperatorRole;
  tokenFile: string;
  cliConfig: string;
}

const TOKEN_TTL_SECONDS = 30 * 86_400;

/** A valid token for `name` (reused from its file when still valid), creating the operator when missing. */
function ensureOperator(
  db: Db,
  auditLog: AuditLog,
  clock: Clock,
  dir: string,
  name: string,
  role: OperatorRole,
): string {
  const tokenFile = join(dir, `${name}.token`);
  const repo = createOperatorsRepo(db);
  const audited = <T>(fn: (audit: AuditLog) => T): T => recordAudited(db, () => fn(auditLog));
  if (existsSync(tokenFile)) {
    const check = checkApiToken(repo, readFileSync(tokenFile, 'utf8').trim(), clock.now());
    if (check.ok) return tokenFile;
  }
  let token: string;
  if (role === 'admin' && repo.adminCount() === 0) {
    token = bootstrapAdmin(db, clock, { name, ttlSeconds: TOKEN_TTL_SECONDS }).token;
  } else {
    if (!repo.get(name)) createOperator({ repo, audited, now: () => clock.now() }, { name, role, by: ACTOR });
    token = audited((audit) => {
      const issued = issueApiToken(repo, name, { createdBy: ACTOR, ttlSeconds: TOKEN_TTL_SECONDS, now: clock.now() });
      audit.append({
        actor: ACTOR,
        action: 'token.created',
        outcome: 'ok',
        details: { operator: name, tokenId: issued.id, expires: issued.expires?.toISOString() ?? '' },
      });
      return issued.token;
    });
  }
  writeSecureFile(tokenFile, `${token}\n`);
  return tokenFile;
}

/** Creates the demo admin and approver with their tokens and CLI configs under `dir`. */
export function ensureDemoOperators(
  db: Db,
  audit: AuditLog,
  clock: Clock,
  dir: string,
  adminAddress: string,
  caFile: string,
): DemoOperator[] {
  const ops: Array<[string, OperatorRole]> = [
    ['demo-admin', 'admin'],
    ['demo-approver', 'approver'],
  ];
  return ops.map(([name, role]) => {
    const tokenFile = resolve(ensureOperator(db, audit, clock, dir, name, role));
    const cliConfig = resolve(join(dir, `${name}.cli.yaml`));
    writeSecureFile(
      cliConfig,
      stringify({ controller: adminAddress, caFile: resolve(caFile), serverName: 'localhost', tokenFile }),
    );
    return { name, role, tokenFile, cliConfig };
  });
}
