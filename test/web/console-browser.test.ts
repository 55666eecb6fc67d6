/**
 * The web console end to end in a real headless browser (Debian's chromium driven by playwright-core):
 * a real controller and two REAL agents in PAM sandboxes. An account is locked for real (three wrong
 * passwords through pamtester) while the fleet page is open and appears without a reload, with time
 * left; it is reset with a generated password (shown once, copy button, gone after hiding) that PAM then
 * accepts; the new audit records are searched and exported; a privileged reset waits for a second
 * person; a viewer sees no change buttons and the API refuses one anyway; CSRF, cookie flags and the CSP
 * hold; sign-out ends the session. Screenshots of the main pages go to docs/screenshots/.
 * One browser launch; each operator gets a fresh context (its own cookies).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { hostAccountFingerprint } from '../../shared/pam-sandbox';
import { SESSION_COOKIE } from '../../controller/web/web-context';
import { startWebController, type OperatorName, type WebTestController } from './support/web-harness';
import { ADMIN_PASSWORD, USER_PASSWORD, createWebNode, type WebNode } from './support/web-node';
import { listAccountViews, listNodeViews } from '../../controller/store';
import { verifyChain } from '../helpers/controller-harness';
import { principal } from '../helpers/factories';
import { waitUntil } from '../helpers/wait-until';

jest.setTimeout(90_000);

// Browser globals used inside page.evaluate callbacks, which run in the page, not in Node.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any, document: any, navigator: any, location: any, localStorage: any, sessionStorage: any;
/* eslint-enable @typescript-eslint/no-explicit-any */

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = resolve(__dirname, '../../docs/screenshots');
let w: WebTestController;
let nodeA: WebNode;
let nodeB: WebNode;
let browser: Browser;
let hostBefore: Record<string, string>;
const contexts: BrowserContext[] = [];
const problems: string[] = [];
let alice: Page;
let newUserPassword = '';

function audit(filter: Record<string, string>) {
  return w.tc.ctx.audit.query({ filter, limit: 1000 }).records;
}

/** A fresh browser context (own cookies) with a page that records script errors and CSP violations. */
async function newPage(viewport = { width: 1280, height: 860 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, acceptDownloads: true, locale: 'en-GB', timezoneId: 'UTC' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: w.url });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return { context, page };
}

async function signIn(page: Page, who: OperatorName): Promise<void> {
  await page.goto(w.url);
  await page.locator('#token').fill(w.tokens[who]);
  await page.locator('#token').press('Enter');
  await page
    .locator('#whoami')
    .filter({ hasText: `${who} (` })
    .waitFor();
}

async function shot(page: Page, name: string, mask: string[] = []): Promise<void> {
  // Notifications from earlier steps would cover the page.
  await page.evaluate(() => document.getElementById('toasts').replaceChildren());
  await page.screenshot({
    path: join(SHOTS, `${name}.png`),
    fullPage: true,
    mask: mask.map((m) => page.locator(m)),
    maskColor: '#d9d9d9',
  });
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  hostBefore = await hostAccountFingerprint();
  w = await startWebController();
  // The sites the console groups by are labels an admin gives; the agents report theirs too (shown only).
  for (const [id, labels] of [
    ['nextseq-a', { site: 'bldg4', room: 'seq-1' }],
    ['nextseq-b', { site: 'bldg7', room: 'core' }],
  ] as const) {
    w.tc.ctx.store.nodes.ensure(id, new Date());
    w.tc.ctx.service.setNodeLabels(principal({ name: 'local:test' }), {
      nodeId: id,
      labels: labels,
      reason: 'test fleet',
    });
  }
  nodeA = await createWebNode('nextseq-a', w.tc.address, await w.tc.nodeCredentials('nextseq-a'), {
    site: 'bldg4',
    room: 'seq-1',
  });
  nodeB = await createWebNode('nextseq-b', w.tc.address, await w.tc.nodeCredentials('nextseq-b'), {
    site: 'bldg7',
    room: 'core',
  });
  nodeA.start();
  nodeB.start();
  await waitUntil(
    () =>
      listNodeViews(w.tc.ctx.store).filter((n) => n.online).length === 2 &&
      listAccountViews(w.tc.ctx.store).length === 4,
    20_000,
    'two nodes with their accounts',
  );
  // Trust exactly the controller's server key, as an operator who imported the CA would.
  const spki = new X509Certificate(w.tc.ctx.pki.server.certPem).publicKey.export({ type: 'spki', format: 'der' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`,
    ],
  });
  ({ page: alice } = await newPage());
  await signIn(alice, 'alice');
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await Promise.all([nodeA, nodeB].filter(Boolean).map((n) => n.destroy()));
  await w?.stop();
  expect(await hostAccountFingerprint()).toEqual(hostBefore);
});

describe('the console in a browser', () => {
  it('shows a lockout made while the fleet page is open, live, with the time left', async () => {
    await alice.locator('#no-locked').waitFor();
    await alice.locator('section.group[data-group="bldg4"]').waitFor();
    await alice.locator('section.group[data-group="bldg7"]').waitFor();
    await alice.evaluate(() => (window.notReloaded = true));
    await nodeA.sandbox.failLogins('ilmnuser', 3, { rhost: '10.4.0.9' });
    const row = alice.locator('#locked-table tr[data-node="nextseq-a"][data-account="ilmnuser"]');
    await row.waitFor({ timeout: 20_000 });
    expect(await alice.evaluate(() => window.notReloaded)).toBe(true);
    await expect(row.locator('td').nth(4).textContent()).resolves.toBe('10.4.0.9');
    const left = row.locator('.time-left');
    const t1 = await left.textContent();
    expect(t1).toMatch(/^(9|10)m \d\ds$/);
    await waitUntil(async () => (await left.textContent()) !== t1, 3000, 'the timer to tick');
    await expect(alice.locator('#live-status').textContent()).resolves.toBe('● Live');
    await expect(row.locator('button[data-action="reset"]').count()).resolves.toBe(1);
    await shot(alice, 'fleet');
  });

  it('shows the node with its account state and lockout history', async () => {
    await alice.locator('#locked-table a', { hasText: 'nextseq-a.lab' }).click();
    await alice.locator('#node-accounts tr[data-account="ilmnuser"]').filter({ hasText: 'Locked' }).waitFor();
    await alice.locator('#state-history li.bad').first().waitFor();
    expect(await alice.locator('#state-history li').first().textContent()).toContain(
      'locked (3 failures from 10.4.0.9)',
    );
    expect(alice.url()).toMatch(/#\/node\/nextseq-a$/);
    await shot(alice, 'node');
  });

  it('resets the password with a generated one shown once (copy button), and PAM accepts it', async () => {
    await alice.locator('#node-accounts tr[data-account="ilmnuser"] button[data-action="reset"]').click();
    const dialog = alice.locator('#change-dialog');
    await dialog.waitFor();
    await dialog.locator('input[name="reason"]').fill('INC-2001 lab bench 4');
    await dialog.locator('button[type="submit"]').click();
    const secret = dialog.locator('#one-time-password code.secret');
    await secret.waitFor();
    newUserPassword = (await secret.textContent()) ?? '';
    expect(newUserPassword.length).toBeGreaterThanOrEqual(20);
    await dialog.locator('button.copy').click();
    await waitUntil(
      async () => (await alice.evaluate(() => navigator.clipboard.readText())) === newUserPassword,
      20_000,
      'the copy button',
    );
    await dialog.locator('td.op-state[data-state="succeeded"]').waitFor({ timeout: 20_000 });
    await shot(alice, 'reset', ['#one-time-password code.secret']);
    // Never in the URL or browser storage.
    const kept = await alice.evaluate(() =>
      [location.href, JSON.stringify({ ...localStorage }), JSON.stringify({ ...sessionStorage }), document.cookie].join(
        '\n',
      ),
    );
    expect(kept).not.toContain(newUserPassword);
    await dialog.locator('#hide-password').click();
    await expect(secret.count()).resolves.toBe(0);
    expect(await alice.content()).not.toContain(newUserPassword);
    await dialog.locator('#change-close').click();
    await expect(alice.locator('#change-dialog').count()).resolves.toBe(0);
    expect(await alice.content()).not.toContain(newUserPassword);

    expect(await nodeA.sandbox.authenticate('ilmnuser', newUserPassword)).toBe(true);
    expect(await nodeA.sandbox.authenticate('ilmnuser', USER_PASSWORD)).toBe(false);
    await alice.locator('#node-accounts tr[data-account="ilmnuser"]').filter({ hasText: 'OK' }).waitFor();
    expect(nodeA.agent!.stdout()).not.toContain(newUserPassword);
  });

  it('finds the new audit records, shows the chain verified, and exports CSV and JSON Lines', async () => {
    await alice.locator('nav a[data-route="audit"]').click();
    await alice.locator('#audit-verify.ok').waitFor();
    expect(await alice.locator('#audit-verify').textContent()).toMatch(/Audit chain verified up to record \d+\./);
    await alice.locator('#f-account').fill('ilmnuser');
    await alice.locator('form.filters button[type="submit"]').click();
    // The unfiltered first page is replaced by the filtered one: wait until every row is about ilmnuser.
    const accounts = alice.locator('#audit-table tbody tr td:nth-child(6)');
    await waitUntil(
      async () => {
        const all = await accounts.allTextContents();
        return all.length > 0 && all.every((a) => a === 'ilmnuser');
      },
      20_000,
      'the filtered audit page',
    );
    const done = alice.locator('#audit-table tr[data-action="operation.succeeded"]').filter({ hasText: 'nextseq-a' });
    expect(await done.first().textContent()).toContain('node:nextseq-a');
    await alice
      .locator('#audit-table tr[data-action="request.created"]')
      .filter({ hasText: 'alice' })
      .filter({ hasText: 'INC-2001' })
      .waitFor();
    await shot(alice, 'audit');

    const [csvDownload] = await Promise.all([alice.waitForEvent('download'), alice.locator('#export-csv').click()]);
    expect(csvDownload.suggestedFilename()).toMatch(/^fleetpass-audit-.*\.csv$/);
    const csv = readFileSync(await csvDownload.path(), 'utf8');
    const rows = csv.trim().split('\r\n');
    expect(rows[0]).toBe(
      'seq,time,actor,action,node_id,account,operation_id,request_id,outcome,reason,details_json,prev_hash,hash',
    );
    expect(rows.slice(1).some((r) => r.includes(',operation.succeeded,nextseq-a,ilmnuser,'))).toBe(true);
    expect(rows.slice(1).some((r) => r.includes(',alice,request.created,') && r.includes('INC-2001'))).toBe(true);
    expect(rows.slice(1).every((r) => r.split(',')[5] === 'ilmnuser')).toBe(true);
    expect(csv).not.toContain(newUserPassword);
    const [jsonDownload] = await Promise.all([alice.waitForEvent('download'), alice.locator('#export-jsonl').click()]);
    const records = readFileSync(await jsonDownload.path(), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; actor: string });
    expect(records.map((r) => r.action)).toContain('request.created');
    expect(audit({ action: 'audit.exported', actor: 'alice' })).toHaveLength(2);
  });

  it('sends a privileged reset to the approvals queue; only a second person can approve it', async () => {
    await alice.goto(`${w.url}/#/node/nextseq-b`);
    await alice.locator('#node-accounts tr[data-account="ilmnadmin"] button[data-action="reset"]').click();
    const dialog = alice.locator('#change-dialog');
    await dialog.locator('input[name="reason"]').fill('CHG-77 service visit');
    await dialog.locator('button[type="submit"]').click();
    await dialog.locator('#change-status').filter({ hasText: 'Waiting for a second person' }).waitFor();
    const adminPassword = (await dialog.locator('#one-time-password code.secret').textContent()) ?? '';
    expect(adminPassword.length).toBeGreaterThanOrEqual(20);
    await dialog.locator('#hide-password').click();
    await dialog.locator('#change-close').click();

    await alice.locator('nav a[data-route="approvals"]').click();
    const mine = alice.locator('#pending-requests li.request[data-requested-by="alice"]');
    await mine.waitFor();
    expect(await mine.textContent()).toContain('Your request');
    await expect(mine.locator('[data-action="approve"], [data-action="reject"]').count()).resolves.toBe(0);
    await expect(alice.locator('#pending-count').textContent()).resolves.toBe('1');

    const { page: bob } = await newPage();
    await signIn(bob, 'bob');
    await bob.locator('nav a[data-route="approvals"]').click();
    const card = bob.locator('#pending-requests li.request[data-requested-by="alice"]');
    await card.waitFor();
    expect(await card.locator('.reason').textContent()).toBe('CHG-77 service visit');
    await card.locator('[data-action="approve"]').waitFor();
    await shot(bob, 'approvals');
    await card.locator('input.note').fill('visit confirmed');
    await card.locator('[data-action="approve"]').click();
    await bob
      .locator('#recent-requests tr', { hasText: 'CHG-77' })
      .filter({ hasText: 'Done' })
      .waitFor({ timeout: 20_000 });
    expect(await nodeB.sandbox.authenticate('ilmnadmin', adminPassword)).toBe(true);
    expect(await nodeB.sandbox.authenticate('ilmnadmin', ADMIN_PASSWORD)).toBe(false);
    const approved = audit({ action: 'request.approved' }).pop()!;
    expect(approved).toMatchObject({ actor: 'bob', reason: 'visit confirmed' });

    // bob's own privileged request: the page offers him no approve or reject, only cancel.
    await bob.goto(`${w.url}/#/node/nextseq-a`);
    await bob.locator('#node-accounts tr[data-account="ilmnadmin"] button[data-action="unlock"]').click();
    const own = bob.locator('#change-dialog');
    await own.locator('input[name="reason"]').fill('INC-3003');
    await own.locator('button[type="submit"]').click();
    await own.locator('#change-status').filter({ hasText: 'Waiting for a second person' }).waitFor();
    await own.locator('#change-close').click();
    await bob.locator('nav a[data-route="approvals"]').click();
    const bobs = bob.locator('#pending-requests li.request[data-requested-by="bob"]');
    await bobs.waitFor();
    await expect(bobs.locator('[data-action="approve"], [data-action="reject"]').count()).resolves.toBe(0);
    await bobs.locator('[data-action="cancel"]').click();
    await bob.locator('#recent-requests tr', { hasText: 'INC-3003' }).filter({ hasText: 'Cancelled' }).waitFor();
    expect(await nodeA.sandbox.authenticate('ilmnadmin', ADMIN_PASSWORD)).toBe(true);
  });

  it('charts lockouts and resets per day and site', async () => {
    await nodeB.sandbox.failLogins('ilmnuser', 3);
    await waitUntil(
      () => listAccountViews(w.tc.ctx.store, { lockedOnly: true }).some((a) => a.node.id === 'nextseq-b'),
      20_000,
      'the second lockout',
    );
    await alice.locator('nav a[data-route="activity"]').click();
    const bldg4 = alice.locator('svg.chart[data-site="bldg4"]');
    await bldg4.waitFor();
    const today = new Date().toISOString().slice(0, 10);
    await expect(bldg4.locator(`rect.bar-lockout[data-day="${today}"]`).getAttribute('data-value')).resolves.toBe('1');
    await expect(bldg4.locator(`rect.bar-reset[data-day="${today}"]`).getAttribute('data-value')).resolves.toBe('1');
    await expect(
      alice.locator(`svg.chart[data-site="bldg7"] rect.bar-lockout[data-day="${today}"]`).getAttribute('data-value'),
    ).resolves.toBe('1');
    await expect(alice.locator('#top-nodes tr[data-node="nextseq-a"] td').nth(2).textContent()).resolves.toBe('1');
    await shot(alice, 'activity');
  });

  it('hides change buttons from a viewer, and the API refuses a change anyway', async () => {
    const { page: victor } = await newPage();
    await signIn(victor, 'victor');
    const row = victor.locator('#locked-table tr[data-node="nextseq-b"][data-account="ilmnuser"]');
    await row.waitFor();
    await expect(row.locator('button').count()).resolves.toBe(0);
    await expect(victor.locator('#act-on-selected').count()).resolves.toBe(0);
    await expect(victor.locator('input[type="checkbox"]').count()).resolves.toBe(0);
    await alice.locator('nav a[data-route="fleet"]').click();
    await alice.locator('#locked-table tr[data-node="nextseq-b"] button[data-action="reset"]').waitFor();
    await expect(alice.locator('#locked-table tr[data-node="nextseq-b"] button').count()).resolves.toBe(2);
    await victor.locator('#locked-table a', { hasText: 'nextseq-b.lab' }).click();
    await victor.locator('#node-accounts tr[data-account="ilmnuser"] button[data-action="history"]').waitFor();
    await expect(
      victor.locator('#node-accounts button[data-action="reset"], #node-accounts button[data-action="unlock"]').count(),
    ).resolves.toBe(0);

    const before = w.tc.ctx.store.operations.listRequests().length;
    const answers = await victor.evaluate(async () => {
      const s = (await (await fetch('/api/session')).json()) as { csrfToken: string };
      const body = JSON.stringify({
        action: 'unlock',
        backend: 'linux',
        account: 'ilmnuser',
        nodeIds: ['nextseq-b'],
        reason: 'viewer tries',
      });
      const withToken = await fetch('/api/requests', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken },
        body,
      });
      const without = await fetch('/api/requests', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      return [
        withToken.status,
        ((await withToken.json()) as { error: { code: string } }).error.code,
        without.status,
        ((await without.json()) as { error: { code: string } }).error.code,
      ];
    });
    expect(answers).toEqual([403, 'FP_FORBIDDEN', 403, 'FP_WEB_CSRF']);
    expect(w.tc.ctx.store.operations.listRequests().length).toBe(before);
    expect(audit({ action: 'access.denied', actor: 'victor' }).map((r) => JSON.parse(r.detailsJson).code)).toEqual([
      'FP_FORBIDDEN',
      'FP_WEB_CSRF',
    ]);
  });

  it('unlocks a selection of nodes in one request', async () => {
    await alice.locator('nav a[data-route="fleet"]').click();
    await alice.locator('input[data-key="sel:nextseq-a"]').check();
    await alice.locator('input[data-key="sel:nextseq-b"]').check();
    await alice.locator('#act-on-selected').filter({ hasText: '2 selected nodes' }).click();
    const dialog = alice.locator('#change-dialog');
    await expect(dialog.locator('ul.chips li').allTextContents()).resolves.toEqual(['nextseq-a.lab', 'nextseq-b.lab']);
    await expect(dialog.locator('input[name="account"]').inputValue()).resolves.toBe('ilmnuser');
    await dialog.locator('input[name="reason"]').fill('INC-4004 both benches');
    await dialog.locator('button[type="submit"]').filter({ hasText: 'Unlock on 2 nodes' }).click();
    await waitUntil(
      async () => (await dialog.locator('td.op-state[data-state="succeeded"]').count()) === 2,
      20_000,
      'both unlocks',
    );
    await expect(dialog.locator('#one-time-password').count()).resolves.toBe(0);
    await dialog.locator('#change-close').click();
    expect(await nodeB.sandbox.authenticate('ilmnuser', USER_PASSWORD)).toBe(true);
    await alice.locator('#no-locked').waitFor();
  });

  it('refuses a request without the CSRF token from an operator page too', async () => {
    const before = w.tc.ctx.store.operations.listRequests().length;
    const r = await alice.evaluate(async () => {
      const res = await fetch('/api/requests', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          action: 'unlock',
          backend: 'linux',
          account: 'ilmnuser',
          nodeIds: ['nextseq-b'],
          reason: 'no token',
        }),
      });
      return [res.status, ((await res.json()) as { error: unknown }).error];
    });
    expect(r).toEqual([
      403,
      expect.objectContaining({ code: 'FP_WEB_CSRF', message: expect.stringContaining('anti-forgery') }),
    ]);
    expect(w.tc.ctx.store.operations.listRequests().length).toBe(before);
  });

  it('keeps the session cookie HttpOnly, Secure and SameSite=Strict; serves a strict CSP and no inline script', async () => {
    const cookies = await contexts[0].cookies(w.url);
    const session = cookies.find((c) => c.name === SESSION_COOKIE)!;
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    expect(await alice.evaluate(() => document.cookie)).not.toContain('fleetpass');
    const res = await alice.reload();
    const csp = (await res!.allHeaders())['content-security-policy'];
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    await alice.locator('#whoami').waitFor();
    const inline = await alice.evaluate(() => ({
      scripts: [...document.querySelectorAll('script')].filter((s) => !s.src || s.textContent?.trim()).length,
      styled: document.querySelectorAll('[style], style').length,
      handlers: [...document.querySelectorAll('*')].filter((el) =>
        [...el.attributes].some((a) => a.name.startsWith('on')),
      ).length,
    }));
    expect(inline).toEqual({ scripts: 0, styled: 0, handlers: 0 });
    // The CSP is enforced: an inline script injected now does not run, and the browser says why.
    const mark = problems.length;
    const ran = await alice.evaluate(async () => {
      const s = document.createElement('script');
      s.textContent = 'window.injected = true';
      document.body.appendChild(s);
      await new Promise((r) => setTimeout(r, 100));
      return window.injected === true;
    });
    expect(ran).toBe(false);
    await waitUntil(() => problems.length > mark, 5000, 'the CSP violation report');
    expect(problems.slice(mark).join('\n')).toMatch(
      /inline script.*violates the following Content Security Policy directive 'script-src 'self''/i,
    );
    problems.length = mark;
  });

  it('shows a failed sign-in and audits it', async () => {
    const { page } = await newPage();
    await page.goto(w.url);
    await page.locator('#token').fill('fpt_00000000000000aa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    await page.locator('#token').press('Enter');
    await page.locator('#signin-error').filter({ hasText: 'FP_UNAUTHENTICATED' }).waitFor();
    await expect(page.locator('#token').inputValue()).resolves.toBe('');
    const failed = audit({ action: 'auth.failed' }).map((r) => JSON.parse(r.detailsJson));
    expect(failed.some((d) => d.what === 'web sign-in' && d.tokenId === '00000000000000aa')).toBe(true);
  });

  it('shows the fleet readably on a tablet', async () => {
    await nodeA.sandbox.failLogins('ilmnuser', 3, { rhost: '10.4.0.9' });
    const { page } = await newPage({ width: 820, height: 1180 });
    await signIn(page, 'victor');
    await page.locator('#locked-table tr[data-node="nextseq-a"]').waitFor();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, 'fleet-tablet');
  });

  it('signs out: the cookie is gone and the API refuses the old session', async () => {
    const before = (await contexts[0].cookies(w.url)).find((c) => c.name === SESSION_COOKIE)!.value;
    await alice.locator('#sign-out').click();
    await alice.locator('form.signin').filter({ hasText: 'You are signed out.' }).waitFor();
    expect((await contexts[0].cookies(w.url)).find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
    const status = await alice.evaluate(async () => (await fetch('/api/nodes')).status);
    expect(status).toBe(401);
    const replay = await w.http('/api/nodes', { cookie: before });
    expect(replay.status).toBe(401);
    expect(replay.json.error.code).toBe('FP_WEB_SESSION_REQUIRED');
    expect(audit({ action: 'web.signed_out', actor: 'alice' })).toHaveLength(1);
  });

  it('ran without script errors or CSP violations, and the chain still verifies', () => {
    expect(problems).toEqual([]);
    expect(verifyChain(w.tc.ctx)).toMatchObject({ ok: true, brokenAt: 0 });
  });
});
