/**
 * TEST ONLY: a real controller (in this process, on 127.0.0.1:0) with its admin API, operators
 * with real API tokens, and the REAL `fleetpass` CLI bundle (`node dist/fleetpass.js`) run as a user
 * would: a CLI config file naming the controller, its CA and a token file; the token never in argv.
 */
import { spawn } from 'node:child_process';
import { credentials, Metadata } from '@grpc/grpc-js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { systemClock, type Clock } from '../../../shared/clock';
import { AdminServiceClient } from '../../../shared/gen/fleetpass/v1/admin';
import type { Logger } from '../../../shared/logger';
import type { FloodLimits } from '../../../controller/access/authenticate';
import { bootstrapAdmin } from '../../../controller/commands/bootstrap-admin';
import type { ControllerConfigInput } from '../../../controller/config';
import type { Principal, Service } from '../../../controller/service';
import type { OperatorRole } from '../../../controller/store/operators-repo';
import { startTestController, type TestController } from '../../helpers/controller-harness';

export const CLI_BUNDLE = resolve(__dirname, '../../../dist/fleetpass.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface OperatorEnv {
  tc: TestController;
  /** The controller's service layer (what the admin API and the web console call). */
  service: Service;
  /** 127.0.0.1:<port> of the admin API. */
  adminAddress: string;
  /** Token file per operator name ("admin" is the bootstrapped admin). */
  tokenFiles: Map<string, string>;
  /** Adds an operator with a role and a token; returns the CLI config file for them. */
  addOperator(name: string, role: OperatorRole): string;
  /** The CLI config file for an operator added before. */
  configFor(name: string): string;
  /** Runs `node dist/fleetpass.js ...args` as `operator`. */
  cli(
    operator: string,
    args: string[],
    options?: { stdin?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
  ): Promise<CliResult>;
  /** A principal for calling the admin service directly (the way the web console does). */
  principal(name: string): Principal;
  stop(): Promise<void>;
}

export interface StartOperatorEnvOptions {
  config?: ControllerConfigInput;
  clock?: Clock;
  log?: Logger;
  admin?: { floodLimits?: Partial<FloodLimits> };
  /** Run password escrow (default off). */
  escrow?: boolean;
  /** Where FLEETPASS_ESCROW_KEY is read (default: nowhere). */
  env?: NodeJS.ProcessEnv;
}

/** Starts the controller and bootstraps the admin "root-admin". */
export async function startOperatorEnv(options: StartOperatorEnvOptions = {}): Promise<OperatorEnv> {
  if (!existsSync(CLI_BUNDLE)) throw new Error(`${CLI_BUNDLE} is missing: run \`npm run build\` first`);
  const tc = await startTestController({
    config: options.config,
    clock: options.clock,
    log: options.log,
    escrow: options.escrow,
    deps: { adminFloodLimits: options.admin?.floodLimits, env: options.env ?? {} },
  });
  const service = tc.ctx.service;
  const dir = join(tc.root, 'operators');
  mkdirSync(dir, { recursive: true });
  const tokenFiles = new Map<string, string>();
  const configs = new Map<string, string>();
  const caFile = join(tc.stateDir, 'pki', 'ca.crt');

  function writeConfig(name: string, token: string): string {
    const tokenFile = join(dir, `${name}.token`);
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    tokenFiles.set(name, tokenFile);
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, stringify({ controller: tc.adminAddress, caFile, tokenFile }));
    configs.set(name, file);
    return file;
  }

  const boot = bootstrapAdmin(tc.ctx.store.db, options.clock ?? systemClock, { name: 'root-admin' });
  writeConfig('root-admin', boot.token);

  const env: OperatorEnv = {
    tc,
    service,
    adminAddress: tc.adminAddress,
    tokenFiles,
    addOperator(name, role) {
      const p = service.principalFor('root-admin', 'local');
      service.createOperator(p, { name, role });
      return writeConfig(name, service.createApiToken(p, { operator: name }).token);
    },
    configFor(name) {
      const f = configs.get(name);
      if (!f) throw new Error(`no operator ${name} in this test`);
      return f;
    },
    cli(operator, args, o = {}) {
      return new Promise((res, rej) => {
        const child = spawn(process.execPath, [CLI_BUNDLE, ...args], {
          cwd: tc.root,
          env: {
            PATH: process.env.PATH,
            HOME: tc.root,
            LANG: 'C',
            FLEETPASS_CONFIG: env.configFor(operator),
            ...o.env,
          },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          rej(
            new Error(
              `fleetpass ${args.join(' ')} timed out; stdout ${stdout.slice(-2000)} stderr ${stderr.slice(-2000)}`,
            ),
          );
        }, o.timeoutMs ?? 30_000);
        child.once('error', rej);
        child.once('close', (code) => {
          clearTimeout(timer);
          res({ code, stdout, stderr });
        });
        child.stdin.end(o.stdin ?? '');
      });
    },
    principal: (name) => service.principalFor(name, 'local'),
    async stop() {
      await tc.stop();
    },
  };
  return env;
}

/** A raw AdminService client (for RPCs the CLI does not expose, and for credentials the CLI would not send). */
export function adminClient(env: OperatorEnv, tls: { keyPem?: string; certPem?: string } = {}): AdminServiceClient {
  const ca = Buffer.from(env.tc.ctx.pki.ca.certPem);
  const creds =
    tls.keyPem && tls.certPem
      ? credentials.createSsl(ca, Buffer.from(tls.keyPem), Buffer.from(tls.certPem))
      : credentials.createSsl(ca);
  return new AdminServiceClient(env.adminAddress, creds, { 'grpc.ssl_target_name_override': 'localhost' });
}

/** Metadata carrying `token` (none when undefined). */
export function bearer(token: string | undefined): Metadata {
  const md = new Metadata();
  if (token !== undefined) md.set('authorization', `Bearer ${token}`);
  return md;
}

/** The token of an operator created by the harness. */
export function tokenOf(env: OperatorEnv, name: string): string {
  return readFileSync(env.tokenFiles.get(name)!, 'utf8').trim();
}

export { waitUntil } from '../../helpers/wait-until';
