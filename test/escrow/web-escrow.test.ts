/**
 * Password escrow in the web console: the JSON API against a real controller with the escrow plugin and
 * a scripted node (role refusals, CSRF, no-store answers, a reveal that waits for a second person and is
 * collected once, rotate now), then the escrow page in headless chromium: a reveal with a reason shows
 * the password once with a copy button and removes it when hidden; the table shows the rotation class,
 * the next rotation and the last rotation's outcome.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import type { Operation } from '../../shared/gen/fleetpass/v1/agent';
import { connectScriptedAgent, succeed, type ScriptedAgent } from '../controller/support/scripted-agent';
import { startWebController, type WebTestController } from '../web/support/web-harness';
import { changeRequestView, listNodeViews } from '../../controller/store';
import { waitUntil } from '../helpers/wait-until';

jest.setTimeout(60_000);

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const navigator: any, location: any, localStorage: any, sessionStorage: any, document: any;
/* eslint-enable @typescript-eslint/no-explicit-any */

const NODE = 'sim-esc';
const USER_PW = 'Web-escrow-pw-1';
let w: WebTestController;
let agent: ScriptedAgent;
let browser: Browser | undefined;
const delivered = new Map<string, string>();

const audit = (action: string) => w.tc.ctx.audit.query({ filter: { action }, limit: 1000 }).records;
const done = (id: string) =>
  waitUntil(() => changeRequestView(w.tc.ctx.store, id).request.state === 'done', 10_000, 'the request to finish');

beforeAll(async () => {
  w = await startWebController({
    escrow: true,
    config: {
      escrow: {
        classes: [
          { name: 'privileged', accounts: [{ account: 'ilmnadmin' }], revealNeedsApproval: true },
          { name: 'lab-users', accounts: [{ account: 'ilmnuser' }], schedule: '0 2 * * *', spreadSeconds: 3600 },
        ],
      },
    },
  });
  agent = connectScriptedAgent({
    address: w.tc.address,
    creds: await w.tc.nodeCredentials(NODE),
    answer: (op: Operation) => {
      delivered.set(op.account, op.newSecret);
      return succeed(op);
    },
  });
  await waitUntil(() => listNodeViews(w.tc.ctx.store).some((n) => n.online), 10_000, 'the node');
  const r = await w.service().requestOperations(w.principal('olga'), {
    selection: { nodeIds: [NODE] },
    backend: Backend.BACKEND_LINUX,
    account: 'ilmnuser',
    action: Action.ACTION_RESET_PASSWORD,
    password: { source: 'provided', password: USER_PW },
    reason: 'T-1',
  });
  await done(r.request!.request.id);
});

afterAll(async () => {
  await browser?.close();
  agent?.close();
  await w?.stop();
});

describe('escrow API of the console', () => {
  it('shows every role the status; never a password', async () => {
    const victor = await w.signIn('victor');
    const r = await w.http('/api/escrow/status', { cookie: victor.cookie });
    expect(r.status).toBe(200);
    expect(r.json.available).toBe(true);
    expect(r.json.entries).toEqual([
      expect.objectContaining({
        nodeId: NODE,
        hostname: `${NODE}.lab`,
        backend: 'linux',
        account: 'ilmnuser',
        rotationClass: 'lab-users',
        setBy: 'olga',
        versions: 1,
        inFlight: false,
        rotationReason: 'scheduled rotation (class lab-users)',
      }),
    ]);
    expect(r.json.entries[0].nextRotation).not.toBeNull();
    expect(r.text).not.toContain(USER_PW);
  });

  it('refuses a viewer and a request without the CSRF token; reveals to an operator once, not cached', async () => {
    const victor = await w.signIn('victor');
    const body = { nodeId: NODE, backend: 'linux', account: 'ilmnuser', reason: 'INC-9' };
    const viewer = await w.http('/api/escrow/reveal', { cookie: victor.cookie, csrf: victor.csrf, body });
    expect(viewer.status).toBe(403);
    expect(viewer.json.error.code).toBe('FP_FORBIDDEN');
    const olga = await w.signIn('olga');
    const forged = await w.http('/api/escrow/reveal', { cookie: olga.cookie, body });
    expect(forged.json.error.code).toBe('FP_WEB_CSRF');
    expect(audit('escrow.revealed')).toHaveLength(0);
    const r = await w.http('/api/escrow/reveal', { cookie: olga.cookie, csrf: olga.csrf, body });
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toMatch(/no-store/);
    expect(r.json).toMatchObject({ state: 'revealed', password: USER_PW });
    expect(r.json.rotateAfter).not.toBeNull();
    expect(audit('escrow.revealed').map((a) => [a.actor, a.reason])).toEqual([['olga', 'INC-9']]);
  });

  it('rotates now, and a privileged reveal waits for an approver before its requester collects it once', async () => {
    const olga = await w.signIn('olga');
    const bob = await w.signIn('bob');
    const rot = await w.http('/api/escrow/rotate', {
      cookie: olga.cookie,
      csrf: olga.csrf,
      body: { nodeIds: [NODE], backend: 'linux', account: 'ilmnadmin', reason: 'CHG-1' },
    });
    expect(rot.status).toBe(200);
    expect(rot.json.request).toMatchObject({ requestedBy: 'escrow:rotation', account: 'ilmnadmin' });
    await done(rot.json.request.id);

    const asked = await w.http('/api/escrow/reveal', {
      cookie: olga.cookie,
      csrf: olga.csrf,
      body: { nodeId: NODE, backend: 'linux', account: 'ilmnadmin', reason: 'INC-10' },
    });
    expect(asked.json).toMatchObject({ state: 'pending' });
    expect(asked.json.password).toBeUndefined();
    const id = asked.json.revealId as string;
    const listed = await w.http('/api/escrow/status', { cookie: bob.cookie });
    expect(listed.json.reveals).toEqual([
      expect.objectContaining({ id, state: 'pending', requestedBy: 'olga', reason: 'INC-10' }),
    ]);
    const early = await w.http(`/api/escrow/reveals/${id}/collect`, { cookie: olga.cookie, csrf: olga.csrf, body: {} });
    expect(early.json.error.code).toBe('FP_REVEAL_PENDING');
    const selfish = await w.http(`/api/escrow/reveals/${id}/approve`, {
      cookie: olga.cookie,
      csrf: olga.csrf,
      body: {},
    });
    expect(selfish.json.error.code).toBe('FP_FORBIDDEN');
    const ok = await w.http(`/api/escrow/reveals/${id}/approve`, {
      cookie: bob.cookie,
      csrf: bob.csrf,
      body: { note: 'fine' },
    });
    expect(ok.json).toMatchObject({ id, state: 'approved', decidedBy: 'bob' });
    const got = await w.http(`/api/escrow/reveals/${id}/collect`, { cookie: olga.cookie, csrf: olga.csrf, body: {} });
    expect(got.json).toMatchObject({ state: 'revealed', password: delivered.get('ilmnadmin') });
    const twice = await w.http(`/api/escrow/reveals/${id}/collect`, { cookie: olga.cookie, csrf: olga.csrf, body: {} });
    expect(twice.json.error.code).toBe('FP_REVEAL_NOT_COLLECTABLE');
  });
});

describe('the escrow page in a browser', () => {
  it('reveals with a reason, shows the password once with a copy button, and shows the rotation schedule', async () => {
    const spki = new X509Certificate(w.tc.ctx.pki.server.certPem).publicKey.export({ type: 'spki', format: 'der' });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        `--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`,
      ],
    });
    const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'UTC' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: w.url });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(w.url);
    await page.locator('#token').fill(w.tokens.olga);
    await page.locator('#token').press('Enter');
    await page.locator('#whoami').waitFor();
    await page.locator('nav a[data-route="escrow"]').click();

    const row = page.locator('#escrow-table tr[data-node="sim-esc"][data-account="ilmnuser"]');
    await row.waitFor();
    expect(await row.locator('td').nth(2).textContent()).toBe('lab-users');
    // The reveal through the API above asked for a post-use rotation, earlier than the class window.
    expect(await row.locator('td.next-rotation').textContent()).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(post-use \(reveal [0-9a-f-]{36}\)\)$/,
    );
    const admin = page.locator('#escrow-table tr[data-account="ilmnadmin"]');
    expect(await admin.locator('td.last-rotation').textContent()).toMatch(/^succeeded, /);

    await row.locator('button').click();
    expect(await page.locator('#escrow-node').inputValue()).toBe(NODE);
    await page.locator('#escrow-reason').fill('INC-11 from the console');
    await page.locator('#escrow-reveal').click();
    const secret = page.locator('#revealed-password');
    await secret.waitFor();
    expect(await secret.textContent()).toBe(USER_PW);
    await page.locator('#one-time-password button.copy').click();
    await waitUntil(
      async () => (await page.evaluate(() => navigator.clipboard.readText())) === USER_PW,
      10_000,
      'the copy button',
    );
    const kept = await page.evaluate(() =>
      [location.href, JSON.stringify({ ...localStorage }), JSON.stringify({ ...sessionStorage }), document.cookie].join(
        '\n',
      ),
    );
    expect(kept).not.toContain(USER_PW);
    await page.locator('#hide-password').click();
    await waitUntil(async () => (await secret.count()) === 0, 10_000, 'the password to go');
    expect(await page.content()).not.toContain(USER_PW);
    expect(audit('escrow.revealed').some((a) => a.reason === 'INC-11 from the console' && a.actor === 'olga')).toBe(
      true,
    );
    expect(problems).toEqual([]);
    await context.close();
  });
});
