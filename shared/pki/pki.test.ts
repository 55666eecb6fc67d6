import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  AgentServiceClient,
  AgentServiceService,
  type RenewRequest,
  type RenewResponse,
} from '../gen/fleetpass/v1/agent';
import {
  certificateFingerprint,
  createCa,
  createKeyAndCsr,
  ensureControllerPki,
  isSignedBy,
  issueClientCertificate,
  nodeIdFromPeerCertificate,
  readCertificateInfo,
  signCsr,
  writeTestPki,
} from '.';

/** Starts a real mTLS grpc server whose Renew echoes the caller's certificate CN. */
async function echoServer(caPem: string, cert: string, key: string) {
  const server = new grpc.Server();
  server.addService(AgentServiceService, {
    connect: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.end(),
    enroll: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.UNIMPLEMENTED }),
    renew: (call: grpc.ServerUnaryCall<RenewRequest, RenewResponse>, cb: grpc.sendUnaryData<RenewResponse>) =>
      cb(null, {
        certificatePem: nodeIdFromPeerCertificate(call.getAuthContext().sslPeerCertificate) ?? 'none',
        caCertificatePem: '',
      }),
  });
  const creds = grpc.ServerCredentials.createSsl(
    Buffer.from(caPem),
    [{ cert_chain: Buffer.from(cert), private_key: Buffer.from(key) }],
    true,
  );
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? rej(e) : res(p))),
  );
  return { server, port };
}

function renew(port: number, caPem: string, cert: string, key: string): Promise<string> {
  const client = new AgentServiceClient(
    `127.0.0.1:${port}`,
    grpc.credentials.createSsl(Buffer.from(caPem), Buffer.from(key), Buffer.from(cert)),
  );
  return new Promise((res, rej) =>
    client.renew({ csrPem: '' }, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (e, r) => {
      client.close();
      if (e) rej(e);
      else res(r!.certificatePem);
    }),
  );
}

describe('pki', () => {
  it('creates a controller CA and server certificate once, keys readable by owner only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-pki-'));
    const first = await ensureControllerPki(dir, { hosts: ['localhost', '127.0.0.1'] });
    expect(statSync(first.files.caKey).mode & 0o777).toBe(0o600);
    expect(statSync(first.files.serverKey).mode & 0o777).toBe(0o600);
    const again = await ensureControllerPki(dir, { hosts: ['localhost', '127.0.0.1'] });
    expect(again.caFingerprint).toBe(first.caFingerprint);
    expect(readFileSync(again.files.serverCert, 'utf8')).toBe(first.server.certPem);
    expect(first.caFingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(isSignedBy(first.server.certPem, first.ca.certPem)).toBe(true);
  });

  it('signs a CSR with the identity the controller chooses, not the one in the CSR', async () => {
    const ca = await createCa();
    const { csrPem } = await createKeyAndCsr({ commonName: 'i-claim-to-be-node-b' });
    const cert = await signCsr(ca, csrPem, { commonName: 'node-a' });
    expect(readCertificateInfo(cert).commonName).toBe('node-a');
    expect(isSignedBy(cert, ca.certPem)).toBe(true);
    await expect(signCsr(ca, 'garbage', { commonName: 'x' })).rejects.toMatchObject({ code: 'FP_CSR_INVALID' });
  });

  it('carries the node identity over real mutual TLS and refuses a certificate from another CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-pki-'));
    const pki = await writeTestPki(dir, ['node-a']);
    const { server, port } = await echoServer(
      pki.ca.certPem,
      readFileSync(pki.serverCertFile, 'utf8'),
      readFileSync(pki.serverKeyFile, 'utf8'),
    );
    try {
      const a = pki.nodes['node-a'];
      expect(await renew(port, pki.ca.certPem, readFileSync(a.certFile, 'utf8'), readFileSync(a.keyFile, 'utf8'))).toBe(
        'node-a',
      );
      const otherCa = await createCa({ commonName: 'rogue' });
      const rogue = await issueClientCertificate(otherCa, { commonName: 'node-a' });
      await expect(renew(port, pki.ca.certPem, rogue.certPem, rogue.keyPem)).rejects.toMatchObject({
        code: grpc.status.UNAVAILABLE,
      });
    } finally {
      server.forceShutdown();
    }
  });

  it('fingerprints match the DER bytes', async () => {
    const ca = await createCa();
    expect(certificateFingerprint(ca.certPem)).toBe(readCertificateInfo(ca.certPem).fingerprint);
  });
});
