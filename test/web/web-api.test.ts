/**
 * The console's HTTP API against a real controller (admin API and web plugins, real TLS, real SQLite)
 * and a scripted node, without a browser: security headers and CSP, the session cookie and its expiry
 * (idle and absolute, on an injected clock), CSRF and origin checks, role refusals from the service layer,
 * the second-person rule, sign-in auditing and throttling per address and per token, sign-out, the live
 * event stream, and the audit export. Every refusal is checked to change nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { fakeClock } from '../../shared/clock';
import { SESSION_COOKIE } from '../../controller/web/web-context';
import { accountState, connectScriptedAgent, type ScriptedAgent } from '../controller/support/scripted-agent';
import { startWebController, type WebTestController } from './support/web-harness';
import { changeRequestView, listAccountViews } from '../../controller/store';
import { principal } from '../helpers/factories';
import { waitUntil } from '../helpers/wait-until';

const clock = fakeClock(new Date());
let w: WebTestController;
let agent: ScriptedAgent;

function audit(action: string) {
  return w.tc.ctx.audit.query({ filter: { action }, limit: 1000 }).records;
}

beforeAll(async () => {
  w = await startWebController({ clock, web: { heartbeatMs: 200 } });
  w.tc.ctx.store.nodes.ensure('sim-1', clock.now());
  w.tc.ctx.service.setNodeLabels(principal({ name: 'local:test' }), {
    nodeId: 'sim-1',
    labels: { site: 'bldg4' },
    reason: 'test fleet',
  });
  agent = connectScriptedAgent({
    address: w.tc.address,
    creds: await w.tc.nodeCredentials('sim-1'),
    hello: { labels: { site: 'bldg4' } },
  });
  await agent.waitFor((m) => (m.message?.$case === 'welcome' ? true : undefined));
  agent.send({
    message: {
      $case: 'stateReport',
      stateReport: {
        accounts: [
          accountState('ilmnuser', true, { lockEnds: new Date(Date.now() + 600_000) }),
          accountState('ilmnadmin', false),
        ],
        trigger: 0,
        requestId: '',
        complete: true,
      },
    },
  });
  await waitUntil(() => listAccountViews(w.tc.ctx.store).length === 2, 5000, 'the scripted node to report');
});

afterAll(async () => {
  agent?.close();
  await w?.stop();
});

describe('headers and the page', () => {
  it('serves the console with a strict CSP, the usual security headers, and no inline script or style', async () => {
    const r = await w.http('/');
    expect(r.status).toBe(200);
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(r.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
    expect(r.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    const scripts = [...r.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="\/[^"]+"/);
      expect(body.trim()).toBe('');
    }
    expect(r.text).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
    const js = await w.http('/app.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.text).not.toMatch(/\.innerHTML\s*=|eval\(|new Function\(/);
  });

  it('answers API errors as JSON with a code, never cached', async () => {
    const r = await w.http('/api/nodes');
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('FP_WEB_SESSION_REQUIRED');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['content-security-policy']).toBeDefined();
    expect((await w.http('/api/nope')).json.error.code).toBe('FP_NOT_FOUND');
  });
});

describe('sign-in and the session cookie', () => {
  it('sets a __Host- cookie that is HttpOnly, Secure and SameSite=Strict, keeps only its hash, and audits the sign-in', async () => {
    const s = await w.signIn('alice');
    expect(s.setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(s.setCookie).toMatch(/;\s*HttpOnly/i);
    expect(s.setCookie).toMatch(/;\s*Secure/i);
    expect(s.setCookie).toMatch(/;\s*SameSite=Strict/i);
    expect(s.setCookie).toMatch(/;\s*Path=\//i);
    expect(s.setCookie).not.toMatch(/Domain=/i);
    expect(s.info).toMatchObject({
      operator: 'alice',
      role: 'admin',
      abilities: { request: true, decide: false, auditRead: true },
    });
    const who = await w.http('/api/session', { cookie: s.cookie });
    expect(who.json.operator).toBe('alice');
    const rec = audit('web.signed_in').find((r) => r.actor === 'alice')!;
    expect(JSON.parse(rec.detailsJson)).toMatchObject({
      role: 'admin',
      source: expect.any(String),
      session: expect.stringMatching(/^[0-9a-f]{12}$/),
    });
    // Neither the cookie value nor the CSRF token reach the database file or the audit.
    const files = [w.tc.config.database, `${w.tc.config.database}-wal`].filter((f) => existsSync(f));
    const dbBytes = files.map((f) => readFileSync(f).toString('latin1')).join('');
    expect(dbBytes).not.toContain(s.cookie);
    expect(dbBytes).not.toContain(s.csrf);
  });

  it('refuses a wrong token, audits the failure, and keeps no cookie', async () => {
    const before = audit('auth.failed').length;
    const r = await w.http('/api/session', {
      body: { token: 'fpt_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    });
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('FP_UNAUTHENTICATED');
    expect(r.headers['set-cookie']).toBeUndefined();
    const failed = audit('auth.failed').slice(before);
    expect(failed).toHaveLength(1);
    expect(JSON.parse(failed[0].detailsJson)).toMatchObject({
      what: 'web sign-in',
      why: 'token-unknown',
      tokenId: '0123456789abcdef',
    });
  });

  it('accepts only JSON bodies', async () => {
    const r = await w.http('/api/session', { raw: `token=${w.tokens.alice}`, contentType: 'text/plain' });
    expect(r.status).toBe(415);
    const f = await w.http('/api/session', {
      raw: `token=${w.tokens.alice}`,
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(f.status).toBe(415);
  });

  it('ends a session after the idle time and after the absolute lifetime, and audits both', async () => {
    const idle = await w.signIn('olga');
    clock.advance(14 * 60_000);
    expect((await w.http('/api/session', { cookie: idle.cookie })).status).toBe(200);
    clock.advance(14 * 60_000); // 14 min since the last request: still fine
    expect((await w.http('/api/session', { cookie: idle.cookie })).status).toBe(200);
    clock.advance(15 * 60_000 + 1);
    const gone = await w.http('/api/session', { cookie: idle.cookie });
    expect(gone.status).toBe(401);
    expect(gone.json.error.code).toBe('FP_WEB_SESSION_REQUIRED');

    const long = await w.signIn('olga');
    for (let i = 0; i < 47; i++) {
      clock.advance(10 * 60_000);
      expect((await w.http('/api/session', { cookie: long.cookie })).status).toBe(200);
    }
    clock.advance(10 * 60_000 + 1); // 8 h after sign-in
    expect((await w.http('/api/session', { cookie: long.cookie })).status).toBe(401);
    const ends = audit('web.session_ended')
      .filter((r) => r.actor === 'olga')
      .map((r) => JSON.parse(r.detailsJson).why);
    expect(ends).toEqual(['idle', 'expired']);
  });

  it('ends the session when the operator is disabled', async () => {
    const svc = w.service();
    svc.createOperator(w.principal('alice'), { name: 'temp', role: 'viewer' });
    const token = svc.createApiToken(w.principal('alice'), { operator: 'temp' }).token;
    const r = await w.http('/api/session', { body: { token } });
    const cookie = /=([^;]+)/.exec(String(([] as string[]).concat(r.headers['set-cookie'] ?? [])[0]))![1];
    expect((await w.http('/api/nodes', { cookie })).status).toBe(200);
    svc.disableOperator(w.principal('alice'), 'temp');
    const after = await w.http('/api/nodes', { cookie });
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe('FP_WEB_SESSION_REQUIRED');
  });
});

describe('changes: CSRF, roles and approvals', () => {
  const ask = { action: 'unlock', backend: 'linux', account: 'ilmnuser', nodeIds: ['sim-1'], reason: 'INC-1' };
  const requests = () => w.tc.ctx.store.operations.listRequests().length;

  it('refuses a change without the CSRF token, with a wrong one, or from another origin, audits it, and changes nothing', async () => {
    const s = await w.signIn('alice');
    const before = requests();
    const denied = audit('access.denied').length;
    const none = await w.http('/api/requests', { cookie: s.cookie, body: ask });
    expect(none.status).toBe(403);
    expect(none.json.error.code).toBe('FP_WEB_CSRF');
    const wrong = await w.http('/api/requests', { cookie: s.cookie, csrf: `${s.csrf.slice(0, -2)}xx`, body: ask });
    expect(wrong.json.error.code).toBe('FP_WEB_CSRF');
    const foreign = await w.http('/api/requests', {
      cookie: s.cookie,
      csrf: s.csrf,
      body: ask,
      headers: { origin: 'https://evil.example' },
    });
    expect(foreign.json.error.code).toBe('FP_WEB_CSRF');
    const other = await w.signIn('olga');
    const crossed = await w.http('/api/requests', { cookie: s.cookie, csrf: other.csrf, body: ask });
    expect(crossed.json.error.code).toBe('FP_WEB_CSRF');
    expect(requests()).toBe(before);
    const records = audit('access.denied')
      .slice(denied)
      .map((r) => JSON.parse(r.detailsJson));
    expect(records.map((d) => d.why)).toEqual(['csrf-token-missing', 'csrf-token-wrong', 'origin', 'csrf-token-wrong']);
    expect(records.every((d) => d.code === 'FP_WEB_CSRF' && d.via === 'session')).toBe(true);
    // Sign-out is a change too.
    expect((await w.http('/api/session', { method: 'DELETE', cookie: s.cookie })).json.error.code).toBe('FP_WEB_CSRF');
    expect((await w.http('/api/session', { cookie: s.cookie })).status).toBe(200);
  });

  it('lets an operator unlock with the token, and the node gets it', async () => {
    const s = await w.signIn('olga');
    const r = await w.http('/api/requests', { cookie: s.cookie, csrf: s.csrf, body: ask });
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.json).toMatchObject({
      needsApproval: false,
      nodeIds: ['sim-1'],
      generatedPasswords: [],
      request: { requestedBy: 'olga', reason: 'INC-1', action: 'unlock' },
    });
    const opId = changeRequestView(w.tc.ctx.store, r.json.request.id).operations[0].id;
    await agent.waitFor((m) =>
      m.message?.$case === 'operation' && m.message.operation.id === opId ? true : undefined,
    );
    await waitUntil(
      () => changeRequestView(w.tc.ctx.store, r.json.request.id).request.state === 'done',
      5000,
      'the unlock',
    );
  });

  it('a viewer gets FP_FORBIDDEN from the service layer even with a valid session and CSRF token, audited, nothing changes', async () => {
    const s = await w.signIn('victor');
    expect(s.info.abilities).toMatchObject({ request: false, decide: false, auditRead: true });
    const before = requests();
    const r = await w.http('/api/requests', { cookie: s.cookie, csrf: s.csrf, body: ask });
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('FP_FORBIDDEN');
    expect(requests()).toBe(before);
    const rec = audit('access.denied')
      .filter((x) => x.actor === 'victor')
      .pop()!;
    expect(JSON.parse(rec.detailsJson)).toMatchObject({ code: 'FP_FORBIDDEN', role: 'viewer', via: 'session' });
    // Reading is fine.
    expect(
      (await w.http('/api/accounts', { cookie: s.cookie })).json.accounts
        .map((a: { state: { account: string } }) => a.state.account)
        .sort(),
    ).toEqual(['ilmnadmin', 'ilmnuser']);
  });

  it('sends a privileged reset to the approvals queue, refuses self-approval, and shows the password once', async () => {
    const alice = await w.signIn('alice');
    const r = await w.http('/api/requests', {
      cookie: alice.cookie,
      csrf: alice.csrf,
      body: { ...ask, action: 'reset_password', account: 'ilmnadmin', reason: 'CHG-9' },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ needsApproval: true, privileged: true, request: { state: 'pending_approval' } });
    expect(r.json.generatedPasswords).toHaveLength(1);
    const password: string = r.json.generatedPasswords[0].password;
    expect(password.length).toBeGreaterThanOrEqual(12);
    const id = r.json.request.id;
    // Never again: not in the request as read back, not in the lists, not in the audit.
    const read = await w.http(`/api/requests/${id}`, { cookie: alice.cookie });
    expect(read.text).not.toContain(password);
    expect((await w.http('/api/requests?view=all', { cookie: alice.cookie })).text).not.toContain(password);
    expect(JSON.stringify(w.tc.ctx.audit.query({ limit: 1000 }).records)).not.toContain(password);
    const pending = await w.http('/api/requests?view=pending', { cookie: alice.cookie });
    expect(pending.json.requests.map((x: { id: string }) => x.id)).toContain(id);

    const self = await w.http(`/api/requests/${id}/approve`, {
      cookie: alice.cookie,
      csrf: alice.csrf,
      body: { note: 'me' },
    });
    expect(self.status).toBe(403);
    expect(self.json.error.code).toBe('FP_FORBIDDEN'); // an admin is not an approver
    const bob = await w.signIn('bob');
    expect(bob.info.abilities).toMatchObject({ decide: true, request: true });
    const ok = await w.http(`/api/requests/${id}/approve`, {
      cookie: bob.cookie,
      csrf: bob.csrf,
      body: { note: 'checked' },
    });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ approvedBy: 'bob', decisionNote: 'checked' });
    await waitUntil(() => changeRequestView(w.tc.ctx.store, id).request.state === 'done', 5000, 'the approved reset');
  });

  it('refuses an approver deciding on their own request (FP_SELF_APPROVAL), and nothing changes', async () => {
    const bob = await w.signIn('bob');
    const r = await w.http('/api/requests', {
      cookie: bob.cookie,
      csrf: bob.csrf,
      body: { ...ask, action: 'unlock', account: 'ilmnadmin', reason: 'INC-5' },
    });
    expect(r.json).toMatchObject({ needsApproval: true, request: { requestedBy: 'bob', state: 'pending_approval' } });
    const id = r.json.request.id;
    for (const decision of ['approve', 'reject']) {
      const d = await w.http(`/api/requests/${id}/${decision}`, { cookie: bob.cookie, csrf: bob.csrf, body: {} });
      expect(d.status).toBe(403);
      expect(d.json.error.code).toBe('FP_SELF_APPROVAL');
    }
    expect(changeRequestView(w.tc.ctx.store, id).request.state).toBe('pending_approval');
    const cancel = await w.http(`/api/requests/${id}/cancel`, {
      cookie: bob.cookie,
      csrf: bob.csrf,
      body: { note: 'not needed' },
    });
    expect(cancel.json).toMatchObject({ state: 'cancelled' });
  });
});

describe('live events', () => {
  function openStream(
    cookie?: string,
  ): Promise<{ status: number; contentType: string; frames: string[]; closed: Promise<void>; destroy(): void }> {
    return new Promise((res, rej) => {
      const req = request(
        `${w.url}/api/events`,
        { headers: cookie ? { cookie: `${SESSION_COOKIE}=${cookie}` } : {}, ca: w.caPem },
        (r) => {
          const frames: string[] = [];
          let buf = '';
          const closed = new Promise<void>((done) => r.on('end', () => done()));
          r.setEncoding('utf8');
          r.on('data', (d: string) => {
            buf += d;
            const parts = buf.split('\n\n');
            buf = parts.pop()!;
            frames.push(...parts);
          });
          res({
            status: r.statusCode ?? 0,
            contentType: String(r.headers['content-type']),
            frames,
            closed,
            destroy: () => req.destroy(),
          });
        },
      );
      req.on('error', rej);
      req.end();
    });
  }

  it('needs a session, streams account changes, and closes when the session signs out', async () => {
    expect((await openStream()).status).toBe(401);
    const s = await w.signIn('victor');
    const st = await openStream(s.cookie);
    expect(st.status).toBe(200);
    expect(st.contentType).toMatch(/^text\/event-stream/);
    await waitUntil(() => st.frames.some((f) => f.includes(': connected')), 5000, 'the stream to open');
    agent.send({
      message: {
        $case: 'stateReport',
        stateReport: {
          accounts: [accountState('ilmnuser', true, { failureCount: 4 })],
          trigger: 0,
          requestId: '',
          complete: false,
        },
      },
    });
    await waitUntil(() => st.frames.some((f) => f.startsWith('event: accounts')), 5000, 'an accounts event');
    const ev = JSON.parse(st.frames.find((f) => f.startsWith('event: accounts'))!.split('\ndata: ')[1]);
    expect(ev).toMatchObject({
      type: 'accounts',
      nodeId: 'sim-1',
      accounts: [
        { hostname: 'sim-1.lab', site: 'bldg4', state: { account: 'ilmnuser', locked: true, failureCount: 4 } },
      ],
    });
    const out = await w.http('/api/session', { method: 'DELETE', cookie: s.cookie, csrf: s.csrf, body: {} });
    expect(out.status).toBe(200);
    await st.closed;
    expect(st.frames.pop()).toContain('"why":"signed-out"');
  });
});

describe('audit', () => {
  it('pages newest first with a cursor, verifies the chain, and exports CSV and JSON Lines (audited)', async () => {
    const s = await w.signIn('victor');
    const p1 = await w.http('/api/audit?limit=3', { cookie: s.cookie });
    expect(p1.json.records).toHaveLength(3);
    const seqs1 = p1.json.records.map((r: { seq: number }) => r.seq);
    expect(seqs1).toEqual([...seqs1].sort((a, b) => b - a));
    const p2 = await w.http(`/api/audit?limit=3&before=${p1.json.nextCursor}`, { cookie: s.cookie });
    expect(p2.json.records[0].seq).toBe(seqs1[2] - 1);
    const filtered = await w.http('/api/audit?actor=bob&action=request.approved', { cookie: s.cookie });
    expect(filtered.json.records.length).toBeGreaterThan(0);
    expect(
      filtered.json.records.every(
        (r: { actor: string; action: string }) => r.actor === 'bob' && r.action === 'request.approved',
      ),
    ).toBe(true);
    expect((await w.http('/api/audit?since=yesterday', { cookie: s.cookie })).json.error.code).toBe(
      'FP_INVALID_ARGUMENT',
    );
    const v = await w.http('/api/audit/verify', { cookie: s.cookie });
    expect(v.json).toMatchObject({ ok: true, brokenAt: 0 });
    expect(v.json.verifiedThrough).toBe(v.json.total);

    expect((await w.http('/api/audit/export', { cookie: s.cookie, body: { format: 'csv' } })).json.error.code).toBe(
      'FP_WEB_CSRF',
    );
    const csv = await w.http('/api/audit/export', {
      cookie: s.cookie,
      csrf: s.csrf,
      body: { format: 'csv', filter: { action: 'web.*' } },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="fleetpass-audit-.*\.csv"$/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe(
      'seq,time,actor,action,node_id,account,operation_id,request_id,outcome,reason,details_json,prev_hash,hash',
    );
    expect(lines.slice(1).every((l) => /^\d+,[^,]+,[^,]+,web\./.test(l))).toBe(true);
    const jsonl = await w.http('/api/audit/export', { cookie: s.cookie, csrf: s.csrf, body: { format: 'jsonl' } });
    const recs = jsonl.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(recs.length).toBeGreaterThan(lines.length - 1);
    expect(recs.map((r) => r.seq)).toEqual([...recs.map((r) => r.seq)].sort((a, b) => a - b));
    expect(audit('audit.exported').filter((r) => r.actor === 'victor')).toHaveLength(2);
  });
});

describe('escrow placeholder', () => {
  it('says escrow is not available yet', async () => {
    const s = await w.signIn('victor');
    const r = await w.http('/api/escrow/status', { cookie: s.cookie });
    expect(r.json).toMatchObject({ available: false });
  });
});

describe('sign-in throttling (last: it blocks this address)', () => {
  it('refuses a token id from an address after 5 failures and an address after 20, unchecked, audited once each', async () => {
    const aliceId = /^fpt_([0-9a-f]{16})_/.exec(w.tokens.alice)![1];
    const wrongSecret = `fpt_${aliceId}_${'B'.repeat(43)}`;
    // Someone elsewhere (127.0.0.2) who read alice's token id tries wrong secrets: that pair is refused...
    const elsewhere = { localAddress: '127.0.0.2' };
    for (let i = 0; i < 5; i++)
      expect((await w.http('/api/session', { ...elsewhere, body: { token: wrongSecret } })).status).toBe(401);
    const there = await w.http('/api/session', { ...elsewhere, body: { token: w.tokens.alice } });
    expect(there.status).toBe(429);
    expect(there.json.error.message).toContain('for this token from this address');
    // ...but alice from her own address is not locked out.
    expect((await w.http('/api/session', { body: { token: w.tokens.alice } })).status).toBe(200);
    for (let i = 0; i < 5; i++)
      expect((await w.http('/api/session', { body: { token: wrongSecret } })).status).toBe(401);
    const blocked = await w.http('/api/session', { body: { token: w.tokens.alice } });
    expect(blocked.status).toBe(429);
    expect(blocked.json.error.code).toBe('FP_WEB_SIGNIN_THROTTLED');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // Another operator's token from the same address still works (15 address failures left).
    const bob = await w.http('/api/session', { body: { token: w.tokens.bob } });
    expect(bob.status).toBe(200);
    for (let i = 0; i < 15; i++) {
      const r = await w.http('/api/session', {
        body: { token: `fpt_${(i + 100).toString(16).padStart(16, '0')}_${'C'.repeat(43)}` },
      });
      expect(r.status).toBe(401);
    }
    const byAddress = await w.http('/api/session', { body: { token: w.tokens.victor } });
    expect(byAddress.status).toBe(429);
    expect(byAddress.json.error.message).toContain('from this address');
    await w.http('/api/session', { body: { token: w.tokens.victor } });
    const throttled = audit('web.signin_throttled').map((r) => JSON.parse(r.detailsJson).by);
    expect(throttled).toEqual(['token', 'token', 'source']);
    // The window ends: the address may try again.
    clock.advance(15 * 60_000 + 1);
    expect((await w.http('/api/session', { body: { token: w.tokens.victor } })).status).toBe(200);

    // Token ids never reach a viewer's audit views (console API and service); an admin still sees them.
    const victor = await w.signIn('victor');
    const view = await w.http('/api/audit?action=web.*&limit=200', { cookie: victor.cookie });
    expect(view.status).toBe(200);
    const viewed = view.json.records as Array<{ details: { tokenId?: string } }>;
    expect(viewed.filter((r) => r.details.tokenId !== undefined).length).toBeGreaterThan(0);
    expect(view.text).not.toContain(aliceId);
    for (const r of viewed) if (r.details.tokenId) expect(r.details.tokenId).toBe('(hidden)');
    const asViewer = w.service().queryAudit(w.principal('victor'), { limit: 1000 });
    expect(JSON.stringify(asViewer.records)).not.toMatch(/"tokenId":"(?!\(hidden\))[^"]+"/);
    const asAdmin = w.service().queryAudit(w.principal('alice'), { filter: { action: 'web.signin_throttled' } });
    expect(asAdmin.records.some((r) => r.detailsJson.includes(aliceId))).toBe(true);
  });
});
