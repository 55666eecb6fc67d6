/**
 * Local admin commands of `fleetpass-controller`, run on the controller host against the data file and
 * CA directly (never over the network):
 *   bootstrap-admin --name N [--token-file F] [--ttl 90d] [--force]   the first admin and its API token
 *   operator-cert --name N --out-dir D [--days 365]                   an operator client certificate
 * Each sets the process result to an exit code (0 ok, 1 failed, 2 usage).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { systemClock } from '../../shared/clock';
import { FleetpassError } from '../../shared/errors';
import { writeSecureFile } from '../../shared/pki';
import { parseDuration } from '../cli/parse-duration';
import { UsageError } from '../cli/output';
import { loadControllerConfig } from '../config';
import { openDatabase } from '../store';
import { createOperatorsRepo } from '../store/operators-repo';
import { bootstrapAdmin } from './bootstrap';
import { issueOperatorCertificate } from './operator-certs';

interface Common {
  config?: string;
  database?: string;
}

function databaseOf(opts: Common): { database: string; pkiDir: string } {
  const { config } = loadControllerConfig({ file: opts.config ?? process.env.FLEETPASS_CONFIG });
  return { database: opts.database ?? config.database, pkiDir: config.tls.dir };
}

/** Writes a new owner-only file; refuses to replace an existing one (a token must not land somewhere unexpected). */
function writeNewSecret(file: string, text: string): void {
  try {
    writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new FleetpassError('FP_INVALID_ARGUMENT', `${file} already exists; choose a new file for the token`);
    throw new FleetpassError('FP_INVALID_ARGUMENT', `cannot write ${file}: ${(e as Error).message}`, { cause: e });
  }
}

function bootstrap(opts: Common & { name: string; tokenFile?: string; ttl?: string; force?: boolean }): number {
  const ttlSeconds = opts.ttl ? parseDuration(opts.ttl, '--ttl') : 0;
  if (opts.tokenFile && existsSync(opts.tokenFile)) throw new FleetpassError('FP_INVALID_ARGUMENT', `${opts.tokenFile} already exists; choose a new file for the token`);
  const { database } = databaseOf(opts);
  const db = openDatabase(database);
  try {
    const r = bootstrapAdmin(db, systemClock, { name: opts.name, force: opts.force, ttlSeconds });
    const expires = r.expires ? r.expires.toISOString() : 'never';
    if (opts.tokenFile) {
      writeNewSecret(opts.tokenFile, `${r.token}\n`);
      console.log(`admin "${r.operator}" ${r.replaced ? 'enabled again' : 'created'}; API token (expires ${expires}) written to ${opts.tokenFile} (mode 0600).`);
      console.log(`Point the CLI at it: tokenFile: ${opts.tokenFile} in ~/.config/fleetpass/cli.yaml`);
    } else {
      console.log(`admin "${r.operator}" ${r.replaced ? 'enabled again' : 'created'}; API token (expires ${expires}), shown once:`);
      console.log(r.token);
      console.log('Keep it in a file only you can read and set tokenFile in ~/.config/fleetpass/cli.yaml (or FLEETPASS_TOKEN).');
    }
    return 0;
  } finally {
    db.close();
  }
}

async function operatorCert(opts: Common & { name: string; outDir: string; days?: string }): Promise<number> {
  const days = opts.days ? Number(opts.days) : 365;
  if (!Number.isInteger(days) || days < 1 || days > 825) throw new UsageError('--days must be a whole number from 1 to 825');
  const { database, pkiDir } = databaseOf(opts);
  const db = openDatabase(database, { readonly: true });
  try {
    const op = createOperatorsRepo(db).get(opts.name);
    if (!op || op.disabled) throw new FleetpassError('FP_NOT_FOUND', `no enabled operator named ${JSON.stringify(opts.name.slice(0, 64))}; add them first`);
  } finally {
    db.close();
  }
  const ca = { certPem: readFileSync(join(pkiDir, 'ca.crt'), 'utf8'), keyPem: readFileSync(join(pkiDir, 'ca.key'), 'utf8') };
  const pair = await issueOperatorCertificate(ca, opts.name, { validDays: days });
  mkdirSync(opts.outDir, { recursive: true, mode: 0o700 });
  const certFile = join(opts.outDir, `${opts.name}.crt`);
  const keyFile = join(opts.outDir, `${opts.name}.key`);
  if (existsSync(keyFile)) throw new FleetpassError('FP_INVALID_ARGUMENT', `${keyFile} already exists`);
  writeSecureFile(keyFile, pair.keyPem);
  writeSecureFile(certFile, pair.certPem, 0o644);
  console.log(`operator certificate for "${opts.name}" (valid ${days} days): ${certFile}, key ${keyFile} (mode 0600)`);
  console.log(`Point the CLI at them: certFile: ${certFile} and keyFile: ${keyFile} in ~/.config/fleetpass/cli.yaml`);
  return 0;
}

/** Usage mistakes exit 2 with one line; other errors go to the caller (exit 1 with the code). */
function usageTo2(fn: () => number | Promise<number>): Promise<number> {
  return Promise.resolve()
    .then(fn)
    .catch((e: unknown) => {
      if (!(e instanceof UsageError)) throw e;
      console.error(`usage: ${e.message}`);
      return 2;
    });
}

/**
 * Adds the local admin commands; `setResult` receives each command's exit code (or its promise). Options
 * are read with optsWithGlobals: commander gives `--config` to the program's own option of that name even
 * when it follows the subcommand.
 */
export function registerAdminCommands(program: Command, setResult: (r: number | Promise<number>) => void): void {
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
  program
    .command('operator-cert')
    .description('issue a client certificate for an operator from the controller CA, locally on the controller host')
    .requiredOption('--name <name>', 'the operator name')
    .requiredOption('--out-dir <dir>', 'where to write <name>.crt and <name>.key')
    .option('--days <n>', 'validity in days (default 365)')
    .option('-c, --config <file>', 'configuration file (YAML or JSON); also FLEETPASS_CONFIG')
    .option('--database <file>', 'the data file (default: the configured one)')
    .exitOverride()
    .action((_o: unknown, cmd: Command) => setResult(usageTo2(() => operatorCert(cmd.optsWithGlobals()))));
}
