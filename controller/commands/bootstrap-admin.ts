/**
 * `fleetpass-controller bootstrap-admin --name N [--token-file F] [--ttl 90d] [--force]`: the first
 * admin, made by a LOCAL command on the controller host (whoever can open the data file is trusted with
 * it), never over the network: creates the operator (or, with force, makes an existing one an enabled
 * admin again) and an API token, both audited in one transaction. Refuses when an enabled admin exists
 * unless forced. Exit 0 ok, 1 failed, 2 usage.
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { systemClock, type Clock } from '../../shared/clock';
import { FleetpassError } from '../../shared/errors';
import { parseDuration } from '../../shared/parse-duration';
import { issueApiToken, type IssuedToken } from '../access/api-tokens';
import { assertOperatorName } from '../access/operators';
import { recordAudited, createAuditLog } from '../audit';
import { openDatabase, type Db } from '../store';
import { createOperatorsRepo } from '../store/operators-repo';
import { databaseOf, localActor, usageTo2, type CommonOptions, type SetResult } from './local-command';

export interface BootstrapInput {
  name: string;
  force?: boolean;
  /** Token lifetime; 0 means the default (90 days). */
  ttlSeconds?: number;
}

/** Creates the first admin and their token; FP_ADMIN_EXISTS when an enabled admin exists and not forced. */
export function bootstrapAdmin(
  db: Db,
  clock: Clock,
  input: BootstrapInput,
): IssuedToken & { operator: string; replaced: boolean } {
  const name = assertOperatorName(input.name);
  const repo = createOperatorsRepo(db);
  const audit = createAuditLog(db, clock);
  const actor = localActor();
  const ttl = input.ttlSeconds || 90 * 86_400;
  return recordAudited(db, () => {
    const admins = repo.adminCount();
    if (admins > 0 && !input.force) {
      throw new FleetpassError(
        'FP_ADMIN_EXISTS',
        `${admins} enabled admin(s) already exist; ask one of them for an account, or run again with --force on the controller host`,
      );
    }
    const now = clock.now();
    const existing = repo.get(name);
    if (existing && !input.force)
      throw new FleetpassError(
        'FP_OPERATOR_EXISTS',
        `an operator named "${name}" already exists; add --force to make them an admin again`,
      );
    if (existing) repo.setRoleEnabled(name, 'admin', now.toISOString());
    else repo.insert(name, 'admin', actor, now.toISOString());
    const issued = issueApiToken(repo, name, { createdBy: actor, ttlSeconds: ttl, now });
    audit.append({
      actor,
      action: 'operator.bootstrapped',
      outcome: 'ok',
      details: {
        operator: name,
        role: 'admin',
        forced: !!input.force,
        replacedExisting: !!existing,
        enabledAdminsBefore: admins,
        tokenId: issued.id,
        expires: issued.expires?.toISOString() ?? '',
      },
    });
    return { ...issued, operator: name, replaced: !!existing };
  });
}

/** Writes a new owner-only file; refuses to replace an existing one (a token must not land somewhere unexpected). */
function writeNewSecret(file: string, text: string): void {
  try {
    writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new FleetpassError('FP_INVALID_ARGUMENT', `${file} already exists; choose a new file for the token`);
    throw new FleetpassError('FP_INVALID_ARGUMENT', `cannot write ${file}: ${(e as Error).message}`, { cause: e });
  }
}

function bootstrap(opts: CommonOptions & { name: string; tokenFile?: string; ttl?: string; force?: boolean }): number {
  const ttlSeconds = opts.ttl ? parseDuration(opts.ttl, '--ttl') : 0;
  if (opts.tokenFile && existsSync(opts.tokenFile))
    throw new FleetpassError(
      'FP_INVALID_ARGUMENT',
      `${opts.tokenFile} already exists; choose a new file for the token`,
    );
  const { database } = databaseOf(opts);
  const db = openDatabase(database);
  try {
    const r = bootstrapAdmin(db, systemClock, { name: opts.name, force: opts.force, ttlSeconds });
    const expires = r.expires ? r.expires.toISOString() : 'never';
    if (opts.tokenFile) {
      writeNewSecret(opts.tokenFile, `${r.token}\n`);
      console.log(
        `admin "${r.operator}" ${r.replaced ? 'enabled again' : 'created'}; API token (expires ${expires}) written to ${opts.tokenFile} (mode 0600).`,
      );
      console.log(`Point the CLI at it: tokenFile: ${opts.tokenFile} in ~/.config/fleetpass/cli.yaml`);
    } else {
      console.log(
        `admin "${r.operator}" ${r.replaced ? 'enabled again' : 'created'}; API token (expires ${expires}), shown once:`,
      );
      console.log(r.token);
      console.log(
        'Keep it in a file only you can read and set tokenFile in ~/.config/fleetpass/cli.yaml (or FLEETPASS_TOKEN).',
      );
    }
    return 0;
  } finally {
    db.close();
  }
}

export function registerBootstrapAdmin(program: Command, setResult: SetResult): void {
  program
    .command('bootstrap-admin')
    .description('create the first admin and an API token, locally on the controller host')
    .requiredOption('--name <name>', 'the admin operator name')
    .option('--token-file <file>', 'write the token to this new file (mode 0600) instead of printing it')
    .option('--ttl <duration>', 'token lifetime, e.g. 90d (default 90d)')
    .option('--force', 'even when an admin exists (make this operator an enabled admin again)')
    .option('-c, --config <file>', 'configuration file (YAML or JSON); also FLEETPASS_CONFIG')
    .option('--database <file>', 'the data file (default: the configured one)')
    .exitOverride()
    .action((_o: unknown, cmd: Command) => setResult(usageTo2(() => bootstrap(cmd.optsWithGlobals()))));
}
