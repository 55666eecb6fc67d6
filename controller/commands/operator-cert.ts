/**
 * `fleetpass-controller operator-cert --name N --out-dir D [--days 365]`: an operator client certificate
 * from the controller CA, locally on the controller host (never over the network). Exit 0 ok, 1 failed,
 * 2 usage.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { FleetpassError } from '../../shared/errors';
import { writeSecureFile } from '../../shared/pki';
import { UsageError } from '../../shared/usage-error';
import { issueOperatorCertificate } from '../access/operator-certs';
import { openDatabase } from '../store';
import { createOperatorsRepo } from '../store/operators-repo';
import { databaseOf, usageTo2, type CommonOptions, type SetResult } from './local-command';

async function operatorCert(opts: CommonOptions & { name: string; outDir: string; days?: string }): Promise<number> {
  const days = opts.days ? Number(opts.days) : 365;
  if (!Number.isInteger(days) || days < 1 || days > 825)
    throw new UsageError('--days must be a whole number from 1 to 825');
  const { database, pkiDir } = databaseOf(opts);
  const db = openDatabase(database, { readonly: true });
  try {
    const op = createOperatorsRepo(db).get(opts.name);
    if (!op || op.disabled)
      throw new FleetpassError(
        'FP_NOT_FOUND',
        `no enabled operator named ${JSON.stringify(opts.name.slice(0, 64))}; add them first`,
      );
  } finally {
    db.close();
  }
  const ca = {
    certPem: readFileSync(join(pkiDir, 'ca.crt'), 'utf8'),
    keyPem: readFileSync(join(pkiDir, 'ca.key'), 'utf8'),
  };
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

export function registerOperatorCert(program: Command, setResult: SetResult): void {
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
