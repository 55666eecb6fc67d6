/**
 * `fleetpass login` through the identity provider: the built CLI as a process starts the device
 * authorization grant through the controller, a scripted chromium confirms the code and signs in at a real
 * OpenID Provider (oidc-provider), and the CLI stores a short-lived session token 0600 in its config
 * folder; the admin API takes it like an API token; `whoami` shows the identity, its provider and where the
 * role came from; `logout` revokes it. A user in no mapped group gets FP_OIDC_NO_ROLE and no token; with
 * the provider down, FP_OIDC_PROVIDER_UNAVAILABLE.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { removeRoot } from '../helpers/controller-harness';
import {
  freeWebPort,
  startOidcController,
  startTestProvider,
  type OidcController,
  type TestProvider,
} from '../helpers/oidc-provider';
import { waitUntil } from '../helpers/wait-until';

jest.setTimeout(180_000);

const CLI = resolve(__dirname, '../../dist/fleetpass.js');
let root: string;
let provider: TestProvider;
let ctl: OidcController;
let browser: Browser;

const person = (name: string, groups: string[]) => ({
  claims: {
    preferred_username: name,
    name: `${name} Example`,
    email: `${name}@lab.example`,
    email_verified: true,
    groups,
  },
});

function cli(args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: root,
      XDG_CONFIG_HOME: join(root, 'config'),
      FLEETPASS_CONTROLLER: ctl.adminAddress,
      FLEETPASS_CA_FILE: ctl.caFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { stdout: () => stdout, stderr: () => stderr, done };
}

/** Confirms the device code in a browser and signs in at the provider as `login`. */
async function approveInBrowser(url: string, login: string): Promise<void> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const page = await context.newPage();
    await page.goto(url);
    await page.locator('button[type=submit][form="op.deviceConfirmForm"]:not([name=abort])').click();
    await page.locator('input[name=login]').fill(login);
    await page.locator('input[name=password]').fill('any password');
    await page.locator('button[type=submit]').click();
    await waitUntil(
      async () => /success|signed in|sign-in/i.test(await page.locator('body').innerText()),
      30_000,
      'the provider to confirm',
    );
  } finally {
    await context.close();
  }
}

async function login(who: string) {
  const run = cli(['login']);
  const url = await waitUntil(() => /open (https:\/\/\S+)/.exec(run.stderr())?.[1], 30_000, 'the verification URL');
  await approveInBrowser(url, who);
  return { code: await run.done, stdout: run.stdout(), stderr: run.stderr() };
}

const tokenFile = () => join(root, 'config', 'fleetpass', 'session.token');

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'fp-oidc-cli-'));
  const port = await freeWebPort();
  provider = await startTestProvider({
    root,
    users: { 'sub-lena': person('lena', ['lab-leads']), 'sub-max': person('max', ['marketing']) },
    redirectUris: [`https://127.0.0.1:${port}/auth/oidc/callback`],
  });
  ctl = await startOidcController({ provider, webPort: port, root: join(root, 'ctl'), oidc: { cliTokenSeconds: 600 } });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await ctl?.stop();
  await provider?.stop();
  if (root) removeRoot(root);
});

describe('fleetpass login through the identity provider', () => {
  it('obtains a session token (0600) that the admin API takes; whoami shows identity, provider and role source; logout revokes it', async () => {
    const r = await login('sub-lena');
    expect(r.stderr).toMatch(/confirm the code \S+/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('signed in as lena (approver from group:lab-leads)');
    expect(statSync(tokenFile()).mode & 0o777).toBe(0o600);

    const who = cli(['whoami']);
    expect(await who.done).toBe(0);
    expect(who.stdout()).toContain('lena (approver)');
    expect(who.stdout()).toContain('subject sub-lena at Fixture IdP');
    expect(who.stdout()).toContain('role: approver from the provider group lab-leads');
    expect(who.stdout()).toContain('a session token from fleetpass login');

    const out = cli(['logout']);
    expect(await out.done).toBe(0);
    expect(out.stdout()).toContain('the session token is revoked');
    expect(existsSync(tokenFile())).toBe(false);
    const after = cli(['whoami']);
    expect(await after.done).toBe(1);
    expect(after.stderr()).toContain('FP_UNAUTHENTICATED');
  });

  it('gives no token to a user in no mapped group, and says when the provider is down', async () => {
    const r = await login('sub-max');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('FP_OIDC_NO_ROLE');
    expect(existsSync(tokenFile())).toBe(false);

    await provider.stop();
    const down = cli(['login']);
    expect(await down.done).toBe(1);
    expect(down.stderr()).toContain('FP_OIDC_PROVIDER_UNAVAILABLE');
  });
});
