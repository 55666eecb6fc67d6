/**
 * Two layers stand between a caller and a node identity on the agent port, and each is tested alone:
 * (1) grpc-js, with the port asking for but not requiring a client certificate, reports one to handlers
 * only when TLS verified it against our CA (pinned here, so an upgrade that changes it is caught); (2)
 * verifyPeerCertificate checks the certificate again itself (CA signature, dates, node usage, revocation),
 * so it holds even if the first layer let something through.
 */
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { createCa, issueClientCertificate, issueServerCertificate, type CertAndKey } from '../../shared/pki';
import { AgentServiceClient, AgentServiceService } from '../../shared/gen/fleetpass/v1/agent';
import { bindServer, createGrpcServer, serverCredentials } from '../../controller/server/grpc-server';
import { verifyPeerCertificate } from '../../controller/enroll';
import { issueOperatorCertificate } from '../../controller/access/operator-certs';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { enrollHere, makeToken } from './support/enroll-fixtures';
import { principal } from '../helpers/factories';

const peer = (pem: string): PeerCertificate => ({ raw: new X509Certificate(pem).raw }) as PeerCertificate;

describe('grpc-js on a port that asks for a client certificate without requiring one', () => {
  let ca: CertAndKey;
  let port: number;
  let server: ReturnType<typeof createGrpcServer>;
  const seen: Array<string | undefined> = [];

  beforeAll(async () => {
    ca = await createCa({ commonName: 'test CA' });
    const srv = await issueServerCertificate(ca, { hosts: ['localhost', '127.0.0.1'] });
    server = createGrpcServer({ keepaliveTimeSeconds: 20, keepaliveTimeoutSeconds: 10, maxMessageBytes: 1 << 20 }, [
      {
        definition: AgentServiceService,
        implementation: {
          connect: () => undefined,
          renew: (
            call: { getAuthContext(): { sslPeerCertificate?: PeerCertificate } },
            cb: (e: Partial<ServiceError> | null, r?: unknown) => void,
          ) => {
            const cert = call.getAuthContext().sslPeerCertificate;
            seen.push(cert ? (cert.subject as unknown as { CN: string }).CN : undefined);
            cb(null, { certificatePem: '', caCertificatePem: '' });
          },
          enroll: (_c: unknown, cb: (e: null, r: unknown) => void) =>
            cb(null, { nodeId: '', certificatePem: '', caCertificatePem: '', labels: {} }),
        },
      },
    ]);
    port = await bindServer(
      server,
      '127.0.0.1:0',
      serverCredentials({ caPem: ca.certPem, certPem: srv.certPem, keyPem: srv.keyPem, requireClientCert: false }),
    );
  });
  afterAll(() => server.forceShutdown());

  async function callAs(id: CertAndKey | undefined): Promise<void> {
    const root = Buffer.from(ca.certPem);
    const creds = id
      ? credentials.createSsl(root, Buffer.from(id.keyPem), Buffer.from(id.certPem))
      : credentials.createSsl(root);
    const client = new AgentServiceClient(`127.0.0.1:${port}`, creds, { 'grpc.ssl_target_name_override': 'localhost' });
    await new Promise<void>((res, rej) => client.renew({ csrPem: '' }, new Metadata(), (e) => (e ? rej(e) : res())));
    client.close();
  }

  it('reports a certificate from its CA, and nothing for none, another CA, or an expired one', async () => {
    await callAs(await issueClientCertificate(ca, { commonName: 'ours' }));
    await callAs(undefined);
    const other = await createCa({ commonName: 'test CA' });
    await callAs(await issueClientCertificate(other, { commonName: 'theirs' }));
    await callAs(other);
    await callAs(await issueClientCertificate(ca, { commonName: 'expired', validDays: 0.001 }));
    expect(seen).toEqual(['ours', undefined, undefined, undefined, undefined]);
  });
});

describe('verifyPeerCertificate (without the TLS layer)', () => {
  let tc: TestController;
  beforeAll(async () => {
    tc = await startTestController();
  });
  afterAll(async () => {
    await tc.stop();
    removeRoot(tc.root);
  });
  const check = (p: PeerCertificate | undefined) => {
    try {
      const id = verifyPeerCertificate(tc.ctx.enrollment.deps, p);
      return id.nodeId;
    } catch (e) {
      return `${(e as { code: string }).code} ${(e as { details: { why?: string } }).details.why}`;
    }
  };

  it('accepts a node certificate from the controller CA and refuses everything else', async () => {
    const ca = tc.ctx.pki.ca;
    expect(check(peer((await issueClientCertificate(ca, { commonName: 'nx-1' })).certPem))).toBe('nx-1');
    expect(check(undefined)).toBe('FP_CLIENT_CERT_REQUIRED no-certificate');
    const other = await createCa({ commonName: 'fleetpass CA' });
    expect(check(peer((await issueClientCertificate(other, { commonName: 'nx-1' })).certPem))).toBe(
      'FP_CLIENT_CERT_REQUIRED untrusted',
    );
    expect(check(peer(other.certPem))).toBe('FP_CLIENT_CERT_REQUIRED untrusted');
    expect(check(peer((await issueClientCertificate(ca, { commonName: 'nx-1', validDays: 0.001 })).certPem))).toBe(
      'FP_CLIENT_CERT_REQUIRED expired',
    );
    expect(check(peer((await issueServerCertificate(ca, { hosts: ['nx-1'] })).certPem))).toBe(
      'FP_CLIENT_CERT_REQUIRED not-node',
    );
    // Operator certificates come from the same CA but are never node identities.
    expect(check(peer((await issueOperatorCertificate(ca, 'alice')).certPem))).toBe('FP_CLIENT_CERT_REQUIRED not-node');
  });

  it('refuses revoked certificates and, once a node is enrolled, any certificate not issued to it', async () => {
    const enrolled = await enrollHere(tc, makeToken(tc).secret, 'nx-e');
    expect(check(peer(enrolled.certPem))).toBe('nx-e');
    expect(check(peer((await issueClientCertificate(tc.ctx.pki.ca, { commonName: 'nx-e' })).certPem))).toBe(
      'FP_CERTIFICATE_REVOKED not-issued-to-node',
    );
    tc.ctx.service.revokeNode(principal({ name: 'admin' }), { nodeId: 'nx-e', reason: 'test' });
    expect(check(peer(enrolled.certPem))).toBe('FP_NODE_REVOKED node-revoked');
    tc.ctx.store.nodes.setRevoked('nx-e', false); // the node flag alone lifted: the certificate itself stays revoked
    expect(check(peer(enrolled.certPem))).toBe('FP_CERTIFICATE_REVOKED node revoked');
  });
});
