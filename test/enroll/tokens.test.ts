/**
 * Enrollment tokens against a real controller: stored only hashed, used at most once (also when two
 * enrollments race), refused when used, expired, revoked, unknown or wrong, with the node id decided by
 * the controller (the token's, or the hostname's; never the CSR's), and wrong tokens from one address
 * rate limited. Every refusal is audited and changes nothing.
 */
import { X509Certificate } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { fakeClock } from '../../shared/clock';
import { createKeyAndCsr } from '../../shared/pki';
import { enroll, listEnrollmentTokens, revokeEnrollmentToken } from '../../controller/enroll';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { audit, details, enrollError, enrollHere, fpCode, makeToken } from './support/enroll-fixtures';
import { tokenSecret } from '../helpers/token-secret';
import { listNodeViews } from '../../controller/store';

let tc: TestController | undefined;
afterEach(async () => {
  if (tc) {
    await tc.stop();
    removeRoot(tc.root);
  }
  tc = undefined;
});

async function csr(cn = 'node'): Promise<string> {
  return (await createKeyAndCsr({ commonName: cn })).csrPem;
}

const refusals = (t: TestController) =>
  audit(t, 'enrollment.refused').map((r) => ({ why: details(r).why, code: details(r).code, reason: r.reason }));

describe('enrollment tokens', () => {
  it('keeps only a salted hash, shows the secret once, and lists tokens without it', async () => {
    tc = await startTestController();
    const created = makeToken(tc, { labels: { site: 'lab2' }, ttlSeconds: 3600 });
    expect(created.secret).toMatch(/^fpe_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created.secret).toContain(created.token.id);
    expect(created.caFingerprint).toBe(tc.caFingerprint);
    const secretPart = tokenSecret(created.secret);
    const row = tc.ctx.store.db.prepare('SELECT * FROM enrollment_tokens').get() as Record<string, unknown>;
    expect(JSON.stringify(row)).not.toContain(secretPart);
    expect((row.hash as Buffer).length).toBe(32);
    const listed = listEnrollmentTokens(tc.ctx.enrollment.deps);
    expect(listed).toEqual([
      expect.objectContaining({ id: created.token.id, state: 'active', labels: { site: 'lab2' }, createdBy: 'admin' }),
    ]);
    expect(JSON.stringify(listed)).not.toMatch(/salt|hash|fpe_/);
    const rec = audit(tc, 'enrollment.token_created');
    expect(rec).toHaveLength(1);
    expect(JSON.stringify(rec)).not.toContain(secretPart);
    expect(details(rec[0])).toMatchObject({ tokenId: created.token.id, labels: { site: 'lab2' } });
  });

  it('refuses bad token settings and changes nothing', async () => {
    tc = await startTestController();
    const deps = tc.ctx.enrollment.deps;
    expect(() => makeToken(tc!, { ttlSeconds: 10 })).toThrow(/between 60 seconds/);
    expect(() => makeToken(tc!, { ttlSeconds: 400 * 86_400 })).toThrow(/between 60 seconds/);
    expect(() => makeToken(tc!, { nodeId: 'Bad_Node' })).toThrow(
      expect.objectContaining({ code: 'FP_NODE_ID_INVALID' }),
    );
    expect(() => makeToken(tc!, { labels: { 'bad key!': 'x' } })).toThrow(
      expect.objectContaining({ code: 'FP_INVALID_ARGUMENT' }),
    );
    expect(listEnrollmentTokens(deps)).toEqual([]);
    expect(audit(tc, 'enrollment.token_created')).toEqual([]);
  });

  it('enrolls once: the node id comes from the hostname, never from the CSR, and a reused token is refused', async () => {
    tc = await startTestController();
    const t = makeToken(tc);
    const { keyPem, csrPem } = await createKeyAndCsr({ commonName: 'root-of-everything' });
    const { callEnroll } = await import('../../agent/enroll/agent-calls');
    const res = await callEnroll({ address: tc.address, serverName: 'localhost' }, tc.ctx.pki.ca.certPem, {
      token: t.secret,
      csrPem,
      hostname: 'NX-07.Lab.Example.ORG',
    });
    expect(res.nodeId).toBe('nx-07.lab.example.org');
    const cert = new X509Certificate(res.certificatePem);
    expect(cert.subject).toBe('CN=nx-07.lab.example.org');
    expect(cert.checkIssued(new X509Certificate(tc.ctx.pki.ca.certPem))).toBe(true);
    expect(keyPem).toContain('PRIVATE KEY');
    expect(res.caCertificatePem).toBe(tc.ctx.pki.ca.certPem);
    expect(tc.ctx.store.nodes.get('nx-07.lab.example.org')).toMatchObject({ online: false, revoked: false });
    const enrolled = audit(tc, 'node.enrolled');
    expect(enrolled).toHaveLength(1);
    expect(details(enrolled[0])).toMatchObject({
      tokenId: t.token.id,
      tokenCreatedBy: 'admin',
      hostname: 'NX-07.Lab.Example.ORG',
      reenrolled: false,
    });
    expect(listEnrollmentTokens(tc.ctx.enrollment.deps)[0]).toMatchObject({
      state: 'used',
      usedByNode: 'nx-07.lab.example.org',
    });

    const again = await enrollError(tc, t.secret, await csr(), 'other-host');
    expect(again?.code).toBe(status.PERMISSION_DENIED);
    expect(fpCode(again)).toBe('FP_TOKEN_INVALID');
    expect(again?.details).toBe('the enrollment token was already used; ask an admin for a new one');
    expect(refusals(tc)).toEqual([{ why: 'used', code: 'FP_TOKEN_INVALID', reason: again?.details }]);
    expect(tc.ctx.store.nodes.get('other-host')).toBeUndefined();
  });

  it('refuses expired, revoked, unknown, malformed and wrong-secret tokens with a clear sentence', async () => {
    const clock = fakeClock(new Date());
    tc = await startTestController({ clock });
    const expiring = makeToken(tc, { ttlSeconds: 120 });
    const revoked = makeToken(tc);
    revokeEnrollmentToken(tc.ctx.enrollment.deps, revoked.token.id, 'bob');
    expect(audit(tc, 'enrollment.token_revoked')[0]).toMatchObject({ actor: 'bob', outcome: 'revoked' });
    clock.advance(121_000);
    const good = makeToken(tc);
    const wrongSecret = `fpe_${good.token.id}_${'A'.repeat(43)}`;
    const unknown = `fpe_${'0'.repeat(16)}_${'B'.repeat(43)}`;

    const errors = [];
    for (const token of [expiring.secret, revoked.secret, unknown, 'not-a-token', wrongSecret])
      errors.push(await enrollError(tc, token, await csr(), 'h-x'));
    expect(errors.map(fpCode)).toEqual(Array(5).fill('FP_TOKEN_INVALID'));
    expect(errors.map((e) => e?.details)).toEqual([
      'the enrollment token has expired; ask an admin for a new one',
      'the enrollment token was revoked; ask an admin for a new one',
      'the enrollment token is not known to this controller; check it was copied whole, or ask an admin for a new one',
      'the enrollment token is not known to this controller; check it was copied whole, or ask an admin for a new one',
      // A wrong secret for a real id reads exactly like an unknown token.
      'the enrollment token is not known to this controller; check it was copied whole, or ask an admin for a new one',
    ]);
    expect(refusals(tc).map((r) => r.why)).toEqual(['expired', 'revoked', 'unknown', 'malformed', 'mismatch']);
    expect(listNodeViews(tc.ctx.store)).toEqual([]);
    // The good token was not harmed by the wrong secret for its id.
    expect((await enrollHere(tc, good.secret, 'h-good')).nodeId).toBe('h-good');
    expect(() => revokeEnrollmentToken(tc!.ctx.enrollment.deps, good.token.id, 'bob')).toThrow(
      /already used by node h-good/,
    );
  });

  it('does not spend a token on a refused enrollment: bad CSR, bad hostname, existing node', async () => {
    tc = await startTestController();
    const t = makeToken(tc);
    expect(fpCode(await enrollError(tc, t.secret, 'garbage', 'h-1'))).toBe('FP_CSR_INVALID');
    expect(fpCode(await enrollError(tc, t.secret, await csr(), '___'))).toBe('FP_NODE_ID_INVALID');
    await enrollHere(tc, makeToken(tc).secret, 'h-taken');
    expect(fpCode(await enrollError(tc, t.secret, await csr(), 'h-taken'))).toBe('FP_NODE_EXISTS');
    expect(refusals(tc).map((r) => r.why)).toEqual(['csr-invalid', 'node-id-invalid', 'node-exists']);
    expect(listEnrollmentTokens(tc.ctx.enrollment.deps).find((x) => x.id === t.token.id)?.state).toBe('active');
    expect((await enrollHere(tc, t.secret, 'h-1')).nodeId).toBe('h-1');
  });

  it('lets only one of two racing enrollments use a token', async () => {
    tc = await startTestController();
    const t = makeToken(tc);
    // Called directly, both pass the token check before either has signed its certificate.
    const attempt = async (hostname: string) =>
      enroll(tc!.ctx.enrollment.deps, { token: t.secret, csrPem: await csr(), hostname, peer: '127.0.0.1:40000' }).then(
        () => 'ok',
        (e: { code: string }) => e.code,
      );
    const csrs = await Promise.all([csr(), csr()]);
    const results = await Promise.all(
      ['race-a', 'race-b'].map((hostname, i) =>
        enroll(tc!.ctx.enrollment.deps, { token: t.secret, csrPem: csrs[i], hostname, peer: '127.0.0.1:40000' }).then(
          () => 'ok',
          (e: { code: string }) => e.code,
        ),
      ),
    );
    expect(results.sort()).toEqual(['FP_TOKEN_INVALID', 'ok']);
    // The transaction that spends the token let only one through.
    expect(refusals(tc).map((r) => r.why)).toEqual(['used-meanwhile']);
    expect(listNodeViews(tc.ctx.store, {})).toHaveLength(1);
    expect(audit(tc, 'node.enrolled')).toHaveLength(1);
    expect(tc.ctx.enrollment.deps.repo.certificatesOf(listNodeViews(tc.ctx.store)[0].id)).toHaveLength(1);
    expect(await attempt('race-c')).toBe('FP_TOKEN_INVALID');
  });

  it('rate limits wrong tokens from one address, audits the limit once, and lets it try again after the window', async () => {
    const clock = fakeClock(new Date());
    tc = await startTestController({
      clock,
      deps: { enrollSettings: { maxTokenFailures: 5, tokenFailureWindowSeconds: 60 } },
    });
    const good = makeToken(tc);
    const codes = [];
    for (let i = 0; i < 8; i++)
      codes.push(
        fpCode(await enrollError(tc, `fpe_${i.toString().padStart(16, '0')}_${'C'.repeat(43)}`, await csr(), 'h-bf')),
      );
    expect(codes).toEqual([...Array(5).fill('FP_TOKEN_INVALID'), ...Array(3).fill('FP_RATE_LIMITED')]);
    // Even the right token is refused from that address while the limit holds; nothing is spent.
    const blocked = await enrollError(tc, good.secret, await csr(), 'h-bf');
    expect(fpCode(blocked)).toBe('FP_RATE_LIMITED');
    expect(blocked?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(refusals(tc)).toHaveLength(5);
    const limited = audit(tc, 'enrollment.rate_limited');
    expect(limited).toHaveLength(1);
    expect(limited[0]).toMatchObject({ actor: 'peer:127.0.0.1', outcome: 'refused' });
    clock.advance(61_000);
    expect((await enrollHere(tc, good.secret, 'h-bf')).nodeId).toBe('h-bf');
  });
});
