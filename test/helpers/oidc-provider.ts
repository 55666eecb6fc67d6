/**
 * TEST ONLY: a real OpenID Provider (oidc-provider, test/fixtures/oidc/provider.mjs) as its own Node
 * process on https://127.0.0.1:<port> with a certificate from a test CA, and a controller process
 * (dist/fleetpass-controller.js) that signs in through it, trusting that CA through NODE_EXTRA_CA_CERTS as
 * a host trusts its organisation's CA. Users, their groups and the provider's tamper switch are JSON
 * files the provider re-reads, so a test changes them between sign-ins.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createCa, issueServerCertificate } from '../../shared/pki';
import { freePort, spawnControllerProcess, writeControllerConfig, type ControllerProcess } from './controller-harness';
import { waitUntil } from './wait-until';

const FIXTURE = resolve(__dirname, '../fixtures/oidc/provider.mjs');

/** A provider user's claims besides `sub` (the key they are filed under, and what they type to log in). */
export interface ProviderUser {
  claims: Record<string, unknown>;
}

export interface TestProvider {
  issuer: string;
  port: number;
  /** The CA that signed the provider's certificate (PEM file). */
  caFile: string;
  caPem: string;
  clientId: string;
  clientSecret: string;
  setUsers(users: Record<string, ProviderUser>): void;
  /** Claims the provider re-signs into the next ID tokens (exp: 'past' for an expired one); {} to stop. */
  tamper(idToken: Record<string, unknown> | undefined): void;
  stop(): Promise<void>;
}

export async function startTestProvider(o: {
  root: string;
  users: Record<string, ProviderUser>;
  redirectUris: string[];
}): Promise<TestProvider> {
  const dir = join(o.root, 'idp');
  mkdirSync(dir, { recursive: true });
  const ca = await createCa({ commonName: 'fleetpass test IdP CA' });
  const server = await issueServerCertificate(ca, { hosts: ['127.0.0.1', 'localhost'] });
  const files = {
    cert: join(dir, 'server.crt'),
    key: join(dir, 'server.key'),
    ca: join(dir, 'ca.crt'),
    users: join(dir, 'users.json'),
    tamper: join(dir, 'tamper.json'),
    clients: join(dir, 'clients.json'),
  };
  writeFileSync(files.cert, server.certPem);
  writeFileSync(files.key, server.keyPem, { mode: 0o600 });
  writeFileSync(files.ca, ca.certPem);
  writeFileSync(files.users, JSON.stringify(o.users));
  writeFileSync(files.tamper, '{}');
  const clientId = 'fleetpass';
  const clientSecret = 'fixture-client-secret-0123456789';
  writeFileSync(
    files.clients,
    JSON.stringify([{ client_id: clientId, client_secret: clientSecret, redirect_uris: o.redirectUris }]),
  );
  const child: ChildProcess = spawn(process.execPath, [FIXTURE], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      FP_OIDC_CERT: files.cert,
      FP_OIDC_KEY: files.key,
      FP_OIDC_USERS: files.users,
      FP_OIDC_TAMPER: files.tamper,
      FP_OIDC_CLIENTS: files.clients,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const issuer = await waitUntil(
    () => {
      if (child.exitCode !== null) throw new Error(`the test provider exited: ${err.slice(-2000)}`);
      return /issuer: (\S+)/.exec(out)?.[1];
    },
    30_000,
    'the test OpenID Provider to listen',
  );
  return {
    issuer,
    port: Number(new URL(issuer).port),
    caFile: files.ca,
    caPem: ca.certPem,
    clientId,
    clientSecret,
    setUsers: (users) => writeFileSync(files.users, JSON.stringify(users)),
    tamper: (idToken) => writeFileSync(files.tamper, JSON.stringify(idToken ? { idToken } : {})),
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

export interface OidcController {
  proc: ControllerProcess;
  root: string;
  webUrl: string;
  adminAddress: string;
  /** The controller's own CA (the CLI trusts it). */
  caFile: string;
  stop(): Promise<void>;
}

/** A free port for a console whose redirect URL the provider must know before the controller starts. */
export const freeWebPort = freePort;

/** Starts the built controller with `auth` (merged over a provider-backed default) on `webPort`. */
export async function startOidcController(o: {
  provider: TestProvider;
  webPort: number;
  auth?: Record<string, unknown>;
  oidc?: Record<string, unknown>;
  /** Where this controller keeps its state (default a new temporary folder). */
  root?: string;
}): Promise<OidcController> {
  const root = o.root ?? mkdtempSync(join(tmpdir(), 'fp-oidc-ctl-'));
  mkdirSync(root, { recursive: true });
  const secretFile = join(root, 'oidc-client-secret');
  writeFileSync(secretFile, `${o.provider.clientSecret}\n`, { mode: 0o600 });
  const file = writeControllerConfig(root, {
    stateDir: join(root, 'state'),
    agentListen: '127.0.0.1:0',
    adminListen: '127.0.0.1:0',
    webListen: `127.0.0.1:${o.webPort}`,
    auth: {
      ...o.auth,
      oidc: {
        issuer: o.provider.issuer,
        name: 'Fixture IdP',
        clientId: o.provider.clientId,
        clientSecretFile: secretFile,
        scopes: ['openid', 'profile', 'email', 'groups'],
        groupRoles: { 'lab-it': 'operator', 'lab-leads': 'approver', 'fleet-admins': 'admin', readers: 'viewer' },
        allowedDomains: ['lab.example'],
        ...o.oidc,
      },
    },
  });
  const proc = spawnControllerProcess(root, ['--config', file], {
    FLEETPASS_WEB_LISTEN: `127.0.0.1:${o.webPort}`,
    NODE_EXTRA_CA_CERTS: o.provider.caFile,
  });
  await proc.ready(30_000);
  const webUrl = /web console:\s+(\S+)/.exec(proc.stdout())![1];
  const adminAddress = /admin API:\s+(\S+)/.exec(proc.stdout())![1];
  return {
    proc,
    root,
    webUrl,
    adminAddress,
    caFile: join(root, 'state', 'pki', 'ca.crt'),
    async stop() {
      if (proc.child.exitCode !== null) return;
      proc.kill('SIGTERM');
      await proc.exited(30_000);
    },
  };
}
