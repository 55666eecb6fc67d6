/**
 * "Sign in with <provider>" end to end: a real OpenID Provider (oidc-provider, its own process, HTTPS on
 * loopback), the built controller as a process trusting the provider's CA, and Debian's chromium driven
 * by playwright-core through the provider's login page. Role from the group mapping at each sign-in
 * (audited role change; out of every mapped group: refused), the session's maximum age, and each bad
 * input: missing groups claim, unmapped group, domain not allowed, a token for another audience, an
 * expired token, replayed and expired state, a wrong issuer, the provider down; each a clear FP_ code on
 * the sign-in page, audited, and no session. Token sign-in stays unless auth.tokenSignIn is false.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { removeRoot } from '../helpers/controller-harness';
import {
  freeWebPort,
  startOidcController,
  startTestProvider,
  type OidcController,
  type ProviderUser,
  type TestProvider,
} from '../helpers/oidc-provider';
import { waitUntil } from '../helpers/wait-until';

jest.setTimeout(180_000);

const CHROMIUM = '/usr/bin/chromium';

/** The provider's subject for a user name: deliberately not the name, as at Entra ID or Okta. */
const sub = (name: string): string => `sub-${name}-0001`;

const user = (name: string, groups: string[] | undefined, email = `${name}@lab.example`): ProviderUser => ({
  claims: {
    preferred_username: name,
    name: `${name[0].toUpperCase()}${name.slice(1)} Example`,
    email,
    email_verified: true,
    ...(groups ? { groups } : {}),
  },
});

const USERS: Record<string, ProviderUser> = {
  [sub('olivia')]: user('olivia', ['lab-it', 'staff']),
  [sub('adam')]: user('adam', ['lab-leads']),
  [sub('nogroups')]: user('nogroups', undefined),
  [sub('mallory')]: user('mallory', ['marketing']),
  [sub('outsider')]: user('outsider', ['lab-it'], 'outsider@elsewhere.example'),
};

let root: string;
let provider: TestProvider;
let main: OidcController;
let short: OidcController;
let wrongIssuer: OidcController;
let browser: Browser;
const contexts: BrowserContext[] = [];

interface AuditRow {
  seq: number;
  actor: string;
  action: string;
  outcome: string;
  details_json: string;
}

/** The audit records of a controller process, read from its data file (WAL: readers see committed rows). */
function audit(c: OidcController, action?: string): Array<AuditRow & { details: Record<string, unknown> }> {
  const db = new Database(join(c.root, 'state', 'fleetpass.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare<[], AuditRow>('SELECT seq, actor, action, outcome, details_json FROM audit_log ORDER BY seq')
      .all();
    return rows
      .filter((r) => !action || r.action === action)
      .map((r) => ({ ...r, details: JSON.parse(r.details_json) as Record<string, unknown> }));
  } finally {
    db.close();
  }
}

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'en-GB', timezoneId: 'UTC' });
  contexts.push(context);
  return context.newPage();
}

/** Through the provider's login page (any password: oidc-provider's development interaction). */
async function loginAtProvider(page: Page, login: string): Promise<void> {
  await page.locator('input[name=login]').waitFor();
  await page.locator('input[name=login]').fill(sub(login));
  await page.locator('input[name=password]').fill('any password');
  await page.locator('button[type=submit]').click();
}

/** Starts "Sign in with Fixture IdP" and signs in at the provider as `login`; stops at the console. */
async function providerSignIn(page: Page, c: OidcController, login: string): Promise<void> {
  await page.goto(c.webUrl);
  await page.locator('#oidc-signin').click();
  await loginAtProvider(page, login);
}

/** Signs in and waits for the console; returns what #whoami says. */
async function signedIn(page: Page, c: OidcController, login: string): Promise<string> {
  await providerSignIn(page, c, login);
  await page
    .locator('#whoami')
    .waitFor({ timeout: 30_000 })
    .catch(async (e: unknown) => {
      throw new Error(`${String(e)}; the page showed: ${(await page.locator('body').innerText()).slice(0, 500)}`);
    });
  return (await page.locator('#whoami').textContent()) ?? '';
}

/** Signs in expecting a refusal; returns the sign-in page's error line. */
async function refused(page: Page, c: OidcController, login: string): Promise<string> {
  await providerSignIn(page, c, login);
  return signInError(page);
}

async function signInError(page: Page): Promise<string> {
  const err = page.locator('#signin-error');
  await waitUntil(async () => ((await err.textContent()) ?? '').includes('FP_'), 30_000, 'the sign-in error');
  expect(page.url()).not.toContain('signin_error'); // shown once, then removed from the address bar
  return (await err.textContent()) ?? '';
}

/**
 * Signs in at the provider but holds the browser's way back; returns the callback URL it would open. The
 * login form's answer is followed by hand (redirects are not routed to the browser): when the provider
 * sends the browser to the console's callback, the page gets a blank answer instead.
 */
async function heldCallback(page: Page, c: OidcController, login: string): Promise<string> {
  let held: string | undefined;
  const pattern = `${provider.issuer}/interaction/**`;
  await page.route(pattern, async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    let response = await route.fetch({ maxRedirects: 0 });
    for (let hops = 0; hops < 5; hops++) {
      const location = response.headers()['location'];
      if (!location) break;
      const next = new URL(location, provider.issuer).href;
      if (next.startsWith(`${c.webUrl}/auth/oidc/callback`)) {
        held = next;
        return route.fulfill({ status: 200, contentType: 'text/html', body: '<p id="held">held</p>' });
      }
      response = await page.context().request.get(next, { maxRedirects: 0 });
    }
    return route.fulfill({ response });
  });
  await providerSignIn(page, c, login);
  const url = await waitUntil(() => held, 30_000, 'the provider to send the browser back');
  await page.unroute(pattern);
  return url;
}

async function sessionStatus(page: Page): Promise<number> {
  return page.evaluate(async () => (await fetch('/api/session')).status);
}

function noSessionFor(c: OidcController, since: number): void {
  expect(audit(c, 'web.signed_in').filter((r) => r.seq > since)).toEqual([]);
}

function headSeq(c: OidcController): number {
  return audit(c).at(-1)?.seq ?? 0;
}

function lastFailure(c: OidcController, since: number): Record<string, unknown> {
  const f = audit(c, 'auth.failed').filter((r) => r.seq > since && r.details.method === 'oidc');
  expect(f.length).toBeGreaterThan(0);
  return f.at(-1)!.details;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'fp-oidc-web-'));
  const [mainPort, shortPort, wrongPort] = [await freeWebPort(), await freeWebPort(), await freeWebPort()];
  provider = await startTestProvider({
    root,
    users: USERS,
    redirectUris: [mainPort, shortPort, wrongPort].map((p) => `https://127.0.0.1:${p}/auth/oidc/callback`),
  });
  main = await startOidcController({ provider, webPort: mainPort, root: join(root, 'main') });
  // Short lifetimes for the expiry tests: long enough for a sign-in on a loaded machine, short enough to wait out.
  short = await startOidcController({
    provider,
    webPort: shortPort,
    root: join(root, 'short'),
    auth: { sessionMaxAgeSeconds: 20, tokenSignIn: false },
    oidc: { loginTimeoutSeconds: 20 },
  });
  // The provider's discovery document names https://127.0.0.1:<port> as its issuer, not localhost.
  wrongIssuer = await startOidcController({
    provider,
    webPort: wrongPort,
    root: join(root, 'wrong'),
    oidc: { issuer: `https://localhost:${provider.port}` },
  });
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
    ],
  });
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  for (const c of [main, short, wrongIssuer]) await c?.stop();
  await provider?.stop();
  if (root) removeRoot(root);
});

describe('console sign-in through the identity provider', () => {
  it('signs a provider user in with the role their group maps to, and audits who they are', async () => {
    const since = headSeq(main);
    const page = await newPage();
    expect(await page.goto(main.webUrl).then(() => page.locator('#oidc-signin').textContent())).toBe(
      'Sign in with Fixture IdP',
    );
    expect(await page.locator('#token').isVisible()).toBe(true); // token sign-in stays by default
    expect(await signedIn(page, main, 'olivia')).toBe('olivia (operator)');
    const created = audit(main, 'operator.created').filter((r) => r.seq > since);
    expect(created.map((r) => r.details)).toEqual([
      expect.objectContaining({
        operator: 'olivia',
        role: 'operator',
        roleSource: 'group:lab-it',
        subject: 'sub-olivia-0001',
        displayName: 'Olivia Example',
      }),
    ]);
    expect(created[0].actor).toBe(`oidc:${provider.issuer}`);
    const signIn = audit(main, 'auth.signed_in').filter((r) => r.seq > since);
    expect(signIn.map((r) => [r.actor, r.details.issuer, r.details.subject, r.details.role, r.details.via])).toEqual([
      ['olivia', provider.issuer, 'sub-olivia-0001', 'operator', 'web'],
    ]);
    expect(
      audit(main, 'web.signed_in')
        .filter((r) => r.seq > since)
        .map((r) => r.details.method),
    ).toEqual(['oidc']);
    // The session is an ordinary console session: HttpOnly cookie, the API answers, sign-out is audited.
    const cookies = await page.context().cookies(main.webUrl);
    expect(cookies.find((c) => c.name === '__Host-fleetpass-session')).toMatchObject({ httpOnly: true, secure: true });
    expect(cookies.find((c) => c.name === '__Host-fleetpass-oidc')).toBeUndefined();
    expect(await sessionStatus(page)).toBe(200);
    await page.locator('#sign-out').click();
    await page.locator('#oidc-signin').waitFor();
    expect(await sessionStatus(page)).toBe(401);
    expect(
      audit(main, 'web.signed_out')
        .filter((r) => r.seq > since)
        .map((r) => r.actor),
    ).toEqual(['olivia']);
  });

  it('takes the role from the groups at every sign-in: a changed group changes the role (audited), no mapped group refuses', async () => {
    const since = headSeq(main);
    provider.setUsers({ ...USERS, [sub('olivia')]: user('olivia', ['readers']) });
    expect(await signedIn(await newPage(), main, 'olivia')).toBe('olivia (viewer)');
    const changed = audit(main, 'operator.role_changed').filter((r) => r.seq > since);
    expect(changed.map((r) => r.details)).toEqual([
      expect.objectContaining({
        operator: 'olivia',
        from: 'operator',
        to: 'viewer',
        fromSource: 'group:lab-it',
        roleSource: 'group:readers',
      }),
    ]);

    // Taken out of every mapped group: the next sign-in is refused and makes no session.
    const before = headSeq(main);
    provider.setUsers({ ...USERS, [sub('olivia')]: user('olivia', ['staff']) });
    const page = await newPage();
    expect(await refused(page, main, 'olivia')).toContain('(FP_OIDC_NO_ROLE)');
    expect(await sessionStatus(page)).toBe(401);
    expect(lastFailure(main, before)).toMatchObject({ code: 'FP_OIDC_NO_ROLE', subject: 'sub-olivia-0001' });
    noSessionFor(main, before);

    // Back in the group: operator again.
    provider.setUsers(USERS);
    expect(await signedIn(await newPage(), main, 'olivia')).toBe('olivia (operator)');
  });

  it('refuses a user without a groups claim, in an unmapped group, or outside the allowed domains', async () => {
    for (const [login, code] of [
      ['nogroups', 'FP_OIDC_GROUPS_MISSING'],
      ['mallory', 'FP_OIDC_NO_ROLE'],
      ['outsider', 'FP_OIDC_DOMAIN_NOT_ALLOWED'],
    ] as const) {
      const since = headSeq(main);
      const page = await newPage();
      expect(await refused(page, main, login)).toContain(`(${code})`);
      expect(await sessionStatus(page)).toBe(401);
      expect(lastFailure(main, since)).toMatchObject({ code, subject: `sub-${login}-0001`, via: 'web' });
      noSessionFor(main, since);
    }
    expect(audit(main, 'operator.created').map((r) => r.details.operator)).not.toContain('mallory');
  });

  it('refuses an ID token for another audience and an expired one, signed by the provider itself', async () => {
    try {
      for (const [tamper, code, why] of [
        [{ aud: 'another-app' }, 'FP_OIDC_TOKEN_INVALID', 'id-token-aud'],
        [{ exp: 'past' }, 'FP_OIDC_TOKEN_INVALID', 'id-token-exp'],
        [{ iss: 'https://impostor.example' }, 'FP_OIDC_ISSUER_MISMATCH', 'id-token-issuer'],
      ] as const) {
        provider.tamper(tamper);
        const since = headSeq(main);
        const page = await newPage();
        expect(await refused(page, main, 'adam')).toContain(`(${code})`);
        expect(lastFailure(main, since)).toMatchObject({ code, why });
        noSessionFor(main, since);
      }
    } finally {
      provider.tamper(undefined);
    }
  });

  it('refuses a replayed sign-in (the state is used once) and one from another browser', async () => {
    const page = await newPage();
    const callback = await heldCallback(page, main, 'adam');
    // Another browser that never started this sign-in cannot finish it (no state cookie): login CSRF.
    const other = await newPage();
    let since = headSeq(main);
    await other.goto(callback);
    expect(await signInError(other)).toContain('(FP_OIDC_STATE_INVALID)');
    expect(lastFailure(main, since)).toMatchObject({ why: 'state-not-this-browser' });
    // That attempt used the state up: the right browser cannot replay it either.
    since = headSeq(main);
    await page.goto(callback);
    expect(await signInError(page)).toContain('(FP_OIDC_STATE_INVALID)');
    expect(lastFailure(main, since)).toMatchObject({ why: 'state-unknown-or-used' });
    noSessionFor(main, since);

    // A successful sign-in's redirect cannot be replayed.
    const third = await newPage();
    const good = await heldCallback(third, main, 'adam');
    await third.goto(good);
    await third.locator('#whoami').waitFor();
    expect(await third.locator('#whoami').textContent()).toBe('adam (approver)');
    since = headSeq(main);
    const again = await third.context().request.get(good, { maxRedirects: 0 });
    expect(again.status()).toBe(303);
    expect(new URL(again.headers()['location'], main.webUrl).searchParams.get('signin_error')).toBe(
      'FP_OIDC_STATE_INVALID',
    );
    noSessionFor(main, since);
  });

  it('ends a session at its maximum age and refuses a sign-in that took longer than the login timeout', async () => {
    const page = await newPage();
    // auth.tokenSignIn: false on this controller: only the provider's button.
    await page.goto(short.webUrl);
    await page.locator('#oidc-signin').waitFor();
    expect(await page.locator('#token').isVisible()).toBe(false);
    const tokenTry = await page.evaluate(async () => {
      const r = await fetch('/api/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: 'fpt_0123456789abcdef_' + 'a'.repeat(43) }),
      });
      return { status: r.status, body: (await r.json()) as { error: { code: string } } };
    });
    expect(tokenTry.body.error.code).toBe('FP_TOKEN_SIGNIN_DISABLED');

    const held = await newPage();
    const expiring = heldCallback(held, short, 'adam').then((url) => ({ url, at: Date.now() }));
    expect(await signedIn(page, short, 'olivia')).toBe('olivia (operator)');
    const info = await page.evaluate(async () => (await (await fetch('/api/session')).json()) as { expires: string });
    const expires = new Date(info.expires).getTime();
    const { url, at } = await expiring;
    // Wait past the session's end and past the held sign-in's timeout (state made before `at`, 20 s life).
    await waitUntil(() => Date.now() > Math.max(expires, at + 20_000) + 1000, 60_000, 'both lifetimes to pass', 200);
    expect(await sessionStatus(page)).toBe(401);
    await page.reload();
    await page.locator('#oidc-signin').waitFor();
    await waitUntil(
      () => audit(short, 'web.session_ended').some((r) => r.actor === 'olivia' && r.details.why === 'expired'),
      10_000,
      'the expiry to be audited',
    );
    const since = headSeq(short);
    await held.goto(url);
    expect(await signInError(held)).toContain('(FP_OIDC_STATE_INVALID)');
    expect(lastFailure(short, since)).toMatchObject({ why: 'state-expired' });
    noSessionFor(short, since);
  });

  it('refuses a provider whose discovery names another issuer, and says when the provider is down', async () => {
    let since = headSeq(wrongIssuer);
    const page = await newPage();
    await page.goto(wrongIssuer.webUrl);
    await page.locator('#oidc-signin').click();
    expect(await signInError(page)).toContain('(FP_OIDC_ISSUER_MISMATCH)');
    expect(lastFailure(wrongIssuer, since)).toMatchObject({ why: 'discovery-issuer' });

    // The provider goes down between the redirect to it and the way back: the code cannot be redeemed.
    const held = await newPage();
    const callback = await heldCallback(held, main, 'adam');
    await provider.stop();
    since = headSeq(main);
    await held.goto(callback);
    expect(await signInError(held)).toContain('(FP_OIDC_PROVIDER_UNAVAILABLE)');
    expect(lastFailure(main, since)).toMatchObject({ code: 'FP_OIDC_PROVIDER_UNAVAILABLE' });
    noSessionFor(main, since);
  });
});
