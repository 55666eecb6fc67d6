/**
 * The agent port asks for a client certificate but lets TLS through without one (Enroll needs that), so
 * every other call must refuse what the TLS layer let in. Real controller, real grpc-js clients over
 * loopback: no certificate, another CA's, an expired one, an enrolled node claiming another, a revoked
 * node (stream cut at once, Connect and Renew refused, re-enrollment only with a token naming it), and a
 * hand-made certificate for an enrolled node. Each refusal is audited.
 */
import { status } from '@grpc/grpc-js';
import { createCa, createKeyAndCsr, issueClientCertificate, issueServerCertificate } from '../../shared/pki';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { connectScriptedAgent, type ScriptedAgent } from '../controller/support/scripted-agent';
import {
  audit,
  connectOutcome,
  details,
  enrollError,
  enrollHere,
  fpCode,
  makeToken,
  renewWith,
} from './support/enroll-fixtures';
import { listNodeViews, selectNodes } from '../../controller/store';
import { verifyChain } from '../helpers/controller-harness';
import { principal } from '../helpers/factories';
import { issueOperatorCertificate } from '../../controller/access/operator-certs';

let tc: TestController;
const agents: ScriptedAgent[] = [];

beforeEach(async () => {
  tc = await startTestController();
});
afterEach(async () => {
  for (const a of agents.splice(0)) a.close();
  await tc.stop();
  removeRoot(tc.root);
});

describe('agent port authentication', () => {
  it('refuses Connect and Renew over TLS without a client certificate, and audits both', async () => {
    const { err, welcomed } = await connectOutcome(tc, undefined, 'ghost-1');
    expect(welcomed).toBe(false);
    expect(err?.code).toBe(status.UNAUTHENTICATED);
    expect(fpCode(err)).toBe('FP_CLIENT_CERT_REQUIRED');
    const refused = audit(tc, 'node.connect_refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ nodeId: '', outcome: 'refused' });
    expect(details(refused[0])).toMatchObject({ code: 'FP_CLIENT_CERT_REQUIRED', why: 'no-certificate' });

    const { csrPem } = await createKeyAndCsr({ commonName: 'ghost-1' });
    const renewal = await renewWith(tc, undefined, csrPem);
    expect(fpCode(renewal.err)).toBe('FP_CLIENT_CERT_REQUIRED');
    expect(details(audit(tc, 'node.renew_refused')[0])).toMatchObject({
      code: 'FP_CLIENT_CERT_REQUIRED',
      why: 'no-certificate',
    });
    expect(listNodeViews(tc.ctx.store)).toEqual([]);
  });

  it('refuses a certificate from another CA naming an enrolled node, on Connect and Renew', async () => {
    const real = await enrollHere(tc, makeToken(tc).secret, 'lab-a');
    expect(real.nodeId).toBe('lab-a');
    const otherCa = await createCa({ commonName: 'fleetpass CA' }); // same name, other key
    const forged = await issueClientCertificate(otherCa, { commonName: 'lab-a' });
    const { err } = await connectOutcome(tc, forged, 'lab-a');
    expect(fpCode(err)).toBe('FP_CLIENT_CERT_REQUIRED');
    // A self-signed certificate (a CA certificate used as a client one) fares no better.
    const selfSigned = await connectOutcome(tc, otherCa, 'lab-a');
    expect(fpCode(selfSigned.err)).toBe('FP_CLIENT_CERT_REQUIRED');
    expect(audit(tc, 'node.connect_refused')).toHaveLength(2);
    expect(audit(tc, 'node.connected')).toEqual([]);

    const { csrPem } = await createKeyAndCsr({ commonName: 'lab-a' });
    const renewal = await renewWith(tc, forged, csrPem);
    expect(fpCode(renewal.err)).toBe('FP_CLIENT_CERT_REQUIRED');
    expect(audit(tc, 'node.certificate_renewed')).toEqual([]);
    expect(audit(tc, 'node.renew_refused')).toHaveLength(1);
    // The real node is unaffected.
    expect((await connectOutcome(tc, real, 'lab-a')).welcomed).toBe(true);
  });

  it('refuses an expired certificate and a server certificate from its own CA', async () => {
    const expired = await issueClientCertificate(tc.ctx.pki.ca, { commonName: 'lab-old', validDays: 0.001 }); // ended minutes ago
    expect(fpCode((await connectOutcome(tc, expired, 'lab-old')).err)).toBe('FP_CLIENT_CERT_REQUIRED');
    // Signed by the right CA, but a server certificate: not a node identity.
    const server = await issueServerCertificate(tc.ctx.pki.ca, { hosts: ['lab-srv'] });
    const { err } = await connectOutcome(tc, server, 'lab-srv');
    expect(fpCode(err)).toBe('FP_CLIENT_CERT_REQUIRED');
    expect(listNodeViews(tc.ctx.store)).toEqual([]);
  });

  it("records a refused certificate's CN as a claimed name only, never as the node it names", async () => {
    await enrollHere(tc, makeToken(tc).secret, 'lab-a');
    // Signed by the right CA and passed by TLS, but not a node identity: an operator's certificate naming lab-a.
    const operatorCert = await issueOperatorCertificate(tc.ctx.pki.ca, 'lab-a');
    expect(fpCode((await connectOutcome(tc, operatorCert, 'lab-a')).err)).toBe('FP_CLIENT_CERT_REQUIRED');
    expect(
      fpCode((await renewWith(tc, operatorCert, (await createKeyAndCsr({ commonName: 'lab-a' })).csrPem)).err),
    ).toBe('FP_CLIENT_CERT_REQUIRED');
    const refused = [...audit(tc, 'node.connect_refused'), ...audit(tc, 'node.renew_refused')];
    expect(refused).toHaveLength(2);
    for (const r of refused) {
      expect(r).toMatchObject({ nodeId: '', outcome: 'refused' });
      expect(r.actor).not.toContain('lab-a');
      expect(details(r)).toMatchObject({ why: 'not-node', claimedName: 'lab-a' });
      expect(details(r)).not.toHaveProperty('nodeId');
    }
    expect(tc.ctx.audit.query({ filter: { nodeId: 'lab-a', action: 'node.*_refused' } }).records).toEqual([]);
  });

  it('refuses an enrolled node that claims to be another node in its hello', async () => {
    const a = await enrollHere(tc, makeToken(tc).secret, 'lab-a');
    await enrollHere(tc, makeToken(tc).secret, 'lab-b');
    const { err } = await connectOutcome(tc, a, 'lab-b');
    expect(err?.code).toBe(status.PERMISSION_DENIED);
    expect(fpCode(err)).toBe('FP_NODE_IDENTITY_MISMATCH');
    expect(audit(tc, 'node.identity_mismatch')[0]).toMatchObject({ nodeId: 'lab-a', actor: 'node:lab-a' });
    expect(tc.ctx.store.nodes.get('lab-b')?.lastSeen).toBeNull();
  });

  it('cuts a revoked node at once, refuses its certificate on Connect and Renew, and lets it back only with a token naming it', async () => {
    const creds = await enrollHere(tc, makeToken(tc, { labels: { site: 'lab2' } }).secret, 'lab-7');
    const online = connectScriptedAgent({ address: tc.address, creds, answer: () => undefined });
    agents.push(online);
    await online.waitFor((m) => m.message?.$case === 'welcome' || undefined);

    const t0 = Date.now();
    tc.ctx.service.revokeNode(principal({ name: 'admin' }), { nodeId: 'lab-7', reason: 'instrument stolen' });
    const cut = await online.ended();
    // At once, not at the next heartbeat (30 s) or keepalive ping (20 s): well under either, with room for a loaded CI.
    const atOnceMs = (Math.min(tc.config.heartbeatSeconds, tc.config.keepalive.timeSeconds) * 1000) / 2;
    expect(Date.now() - t0).toBeLessThan(atOnceMs);
    expect(cut?.code).toBe(status.PERMISSION_DENIED);
    expect(tc.ctx.enrollment.deps.repo.certificatesOf('lab-7').map((c) => [c.via, c.revokedReason])).toEqual([
      ['enroll', 'node revoked'],
    ]);

    const again = await connectOutcome(tc, creds, 'lab-7');
    expect(fpCode(again.err)).toBe('FP_NODE_REVOKED');
    expect(audit(tc, 'node.connect_refused').map((r) => [r.nodeId, details(r).code])).toEqual([
      ['lab-7', 'FP_NODE_REVOKED'],
    ]);
    const { csrPem } = await createKeyAndCsr({ commonName: 'lab-7' });
    expect(fpCode((await renewWith(tc, creds, csrPem)).err)).toBe('FP_NODE_REVOKED');
    expect(audit(tc, 'node.renew_refused')[0]).toMatchObject({ nodeId: 'lab-7', outcome: 'refused' });

    // A token that does not name the node cannot take its id back, and is not spent trying.
    const plain = makeToken(tc);
    const taken = await enrollError(tc, plain.secret, (await createKeyAndCsr({ commonName: 'x' })).csrPem, 'lab-7');
    expect(fpCode(taken)).toBe('FP_NODE_EXISTS');
    expect(tc.ctx.enrollment.deps.repo.getToken(plain.token.id)?.used).toBeNull();
    expect(details(audit(tc, 'enrollment.refused')[0])).toMatchObject({ code: 'FP_NODE_EXISTS', why: 'node-exists' });

    // An admin's token for exactly this node re-admits it with a new certificate; the old one stays refused.
    const renewed = await enrollHere(tc, makeToken(tc, { nodeId: 'lab-7' }).secret, 'whatever-the-host-says');
    expect(renewed.nodeId).toBe('lab-7');
    expect(tc.ctx.store.nodes.get('lab-7')?.revoked).toBe(false);
    expect(details(audit(tc, 'node.enrolled')[1])).toMatchObject({ reenrolled: true, wasRevoked: true });
    expect((await connectOutcome(tc, renewed, 'lab-7')).welcomed).toBe(true);
    const old = await connectOutcome(tc, creds, 'lab-7');
    expect(fpCode(old.err)).toBe('FP_CERTIFICATE_REVOKED');
    expect(verifyChain(tc.ctx).ok).toBe(true);
  });

  it('holds an enrolled node to the certificates it was issued; a hand-made one for it is refused', async () => {
    const handMadeBefore = await tc.nodeCredentials('lab-9');
    expect((await connectOutcome(tc, handMadeBefore, 'lab-9')).welcomed).toBe(true); // never enrolled: the CA's word suffices
    await enrollHere(tc, makeToken(tc, { nodeId: 'lab-9' }).secret, 'lab-9');
    const handMade = await tc.nodeCredentials('lab-9');
    const { err } = await connectOutcome(tc, handMade, 'lab-9');
    expect(fpCode(err)).toBe('FP_CERTIFICATE_REVOKED');
    expect(details(audit(tc, 'node.connect_refused')[0])).toMatchObject({ why: 'not-issued-to-node', nodeId: 'lab-9' });
  });

  it('gives a node the labels of its token; the labels in its hello are kept apart as reported ones and select nothing', async () => {
    const creds = await enrollHere(tc, makeToken(tc, { labels: { site: 'lab2', room: 'b12' } }).secret, 'lab-l');
    expect(tc.ctx.store.nodes.get('lab-l')?.labels).toEqual({ site: 'lab2', room: 'b12' });
    const a = connectScriptedAgent({ address: tc.address, creds, hello: { labels: { site: 'elsewhere', rack: '3' } } });
    agents.push(a);
    await a.waitFor((m) => m.message?.$case === 'welcome' || undefined);
    expect(tc.ctx.store.nodes.get('lab-l')).toMatchObject({
      labels: { site: 'lab2', room: 'b12' },
      reportedLabels: { site: 'elsewhere', rack: '3' },
    });
    expect(selectNodes(tc.ctx.store, { labels: { site: 'elsewhere' } })).toEqual([]);
    expect(selectNodes(tc.ctx.store, { labels: { rack: '3' } })).toEqual([]);
    expect(selectNodes(tc.ctx.store, { labels: { site: 'lab2' } }).map((n) => n.id)).toEqual(['lab-l']);
  });
});
