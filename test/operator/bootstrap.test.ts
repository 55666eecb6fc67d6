/**
 * The first admin, from nothing, as on a new controller host: `fleetpass-controller bootstrap-admin`
 * (local, opens the data file directly) writes a 0600 token file; a second bootstrap is refused unless
 * --force; the real controller process then serves the admin API (its banner says where) and the CLI signs
 * in with that token. Both bootstraps are in the audit log.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  CONTROLLER_BUNDLE,
  removeRoot,
  spawnControllerProcess,
  writeControllerConfig,
  type ControllerProcess,
} from '../helpers/controller-harness';
import { CLI_BUNDLE, type CliResult } from './support/operator-harness';

const root = mkdtempSync(join(tmpdir(), 'fp-bootstrap-'));
const stateDir = join(root, 'state');
const configFile = writeControllerConfig(root, {
  stateDir,
  agentListen: '127.0.0.1:0',
  adminListen: '127.0.0.1:0',
  webListen: '127.0.0.1:0',
});
let controller: ControllerProcess | undefined;

function run(bundle: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [bundle, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: root, LANG: 'C', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', rej);
    child.once('close', (code) => res({ code, stdout, stderr }));
  });
}

afterAll(async () => {
  if (controller && controller.child.exitCode === null) {
    controller.kill('SIGTERM');
    await controller.exited();
  }
  removeRoot(root);
});

describe('bootstrap-admin', () => {
  const tokenFile = join(root, 'alice.token');

  it('creates the first admin locally and writes the token to a new 0600 file', async () => {
    const r = await run(CONTROLLER_BUNDLE, [
      'bootstrap-admin',
      '--name',
      'alice',
      '--token-file',
      tokenFile,
      '--config',
      configFile,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`admin "alice" created; API token (expires `);
    expect(r.stdout).toContain(`written to ${tokenFile} (mode 0600)`);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(stateDir, 'fleetpass.db')).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(token).toMatch(/^fpt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(r.stdout).not.toContain(token);
  });

  it('refuses a second bootstrap without --force, and changes nothing', async () => {
    const r = await run(CONTROLLER_BUNDLE, ['bootstrap-admin', '--name', 'bob', '--config', configFile]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'FP_ADMIN_EXISTS: 1 enabled admin(s) already exist; ask one of them for an account, or run again with --force on the controller host',
    );
    expect(r.stdout).toBe('');
  });

  it('with --force, adds another admin and prints the token once', async () => {
    const r = await run(CONTROLLER_BUNDLE, [
      'bootstrap-admin',
      '--name',
      'bob',
      '--force',
      '--ttl',
      '7d',
      '--config',
      configFile,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/admin "bob" created; API token \(expires \S+\), shown once:\nfpt_[0-9a-f]{16}_\S{43}\n/);
  });

  it('refuses a bad name and a bad --ttl as usage or input errors', async () => {
    const bad = await run(CONTROLLER_BUNDLE, [
      'bootstrap-admin',
      '--name',
      'Bad:Name',
      '--force',
      '--config',
      configFile,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('FP_OPERATOR_NAME_INVALID');
    const ttl = await run(CONTROLLER_BUNDLE, [
      'bootstrap-admin',
      '--name',
      'carol',
      '--force',
      '--ttl',
      'soon',
      '--config',
      configFile,
    ]);
    expect(ttl.code).toBe(2);
    expect(ttl.stderr).toContain('usage: --ttl must be a duration');
  });

  it('the token signs in to the real controller process through the CLI; the bootstraps are audited', async () => {
    controller = spawnControllerProcess(root, ['--config', configFile]);
    await controller.ready();
    const admin = /admin API:\s+(\S+)/.exec(controller.stdout())![1];
    expect(admin).toMatch(/^127\.0\.0\.1:\d+$/);
    const cliConfig = join(root, 'cli.yaml');
    writeFileSync(cliConfig, stringify({ controller: admin, caFile: join(stateDir, 'pki', 'ca.crt'), tokenFile }));
    const who = await run(CLI_BUNDLE, ['whoami'], { FLEETPASS_CONFIG: cliConfig });
    expect([
      who.stderr,
      controller
        .stdout()
        .split('\n')
        .filter((l) => l.includes('authentication'))
        .join('\n'),
    ]).toEqual(['', '']);
    expect(who.stdout.trim()).toBe(`alice (admin) at ${admin}`);

    const ops = await run(CLI_BUNDLE, ['operators', 'list', '--json'], { FLEETPASS_CONFIG: cliConfig });
    expect((JSON.parse(ops.stdout) as Array<{ name: string; role: string }>).map((o) => [o.name, o.role])).toEqual([
      ['alice', 'ROLE_ADMIN'],
      ['bob', 'ROLE_ADMIN'],
    ]);

    const audit = await run(CLI_BUNDLE, ['audit', '--action', 'operator.bootstrapped', '--json'], {
      FLEETPASS_CONFIG: cliConfig,
    });
    const records = (JSON.parse(audit.stdout) as { records: Array<{ actor: string; detailsJson: string }> }).records;
    expect(records.map((r) => JSON.parse(r.detailsJson))).toMatchObject([
      { operator: 'alice', forced: false },
      { operator: 'bob', forced: true, enabledAdminsBefore: 1 },
    ]);
    for (const rec of records) expect(rec.actor).toMatch(/^local:/);

    const noToken = await run(CLI_BUNDLE, ['whoami'], {
      FLEETPASS_CONFIG: cliConfig,
      FLEETPASS_TOKEN_FILE: join(root, 'missing.token'),
    });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('error FP_UNAUTHENTICATED: cannot read the token file');

    controller.kill('SIGTERM');
    expect(await controller.exited()).toEqual({ code: 0, signal: null });
  });
});
