import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateFingerprint, createCa, issueServerCertificate, type CertAndKey } from '../../../shared/pki';
import { parseSsrBackendConfig, ssrConfigWarnings, type SsrBackendConfigInput } from './config';
import { createHttpsTransport } from './https-transport';

describe('SSR HTTPS transport', () => {
  let dir: string;
  let ca: CertAndKey;
  let otherCa: CertAndKey;
  let server: Server;
  let url: string;
  let fingerprint: string;
  const seen: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fp-ssr-tls-'));
    ca = await createCa({ commonName: 'router CA' });
    otherCa = await createCa({ commonName: 'someone else' });
    const cert = await issueServerCertificate(ca, { hosts: ['127.0.0.1'] });
    fingerprint = certificateFingerprint(cert.certPem);
    writeFileSync(join(dir, 'ca.pem'), ca.certPem);
    writeFileSync(join(dir, 'other.pem'), otherCa.certPem);
    server = createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      if (req.url === '/slow') return; // never answers
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    seen.length = 0;
  });

  function transport(overrides: SsrBackendConfigInput) {
    return createHttpsTransport(parseSsrBackendConfig({ baseUrl: url, timeoutMs: 500, ...overrides }));
  }

  it('trusts the router through its CA file and sends the bearer token', async () => {
    const t = transport({ tls: { caFile: join(dir, 'ca.pem') } });
    await expect(t.request('GET', '/api/v1/user', { token: 'tok' })).resolves.toEqual({
      status: 200,
      body: { ok: true },
    });
    expect(seen).toEqual(['GET /api/v1/user Bearer tok']);
    t.close();
  });

  it('trusts the router through a pinned fingerprint in any spelling', async () => {
    const colons = fingerprint.replace('sha256:', '').toUpperCase().match(/../g)!.join(':');
    const t = transport({ tls: { fingerprint: colons } });
    await expect(t.request('POST', '/api/v1/login', { json: { a: 1 } })).resolves.toMatchObject({ status: 200 });
    t.close();
  });

  it('refuses a certificate from another CA, and the default (system CAs), with FP_SSR_TLS_UNTRUSTED', async () => {
    for (const tls of [{ caFile: join(dir, 'other.pem') }, {}]) {
      const t = transport({ tls });
      await expect(t.request('GET', '/x')).rejects.toMatchObject({ code: 'FP_SSR_TLS_UNTRUSTED' });
      t.close();
    }
    expect(seen).toEqual([]);
  });

  it('refuses a certificate that is not the pinned one before sending anything', async () => {
    const t = transport({ tls: { fingerprint: `sha256:${'ab'.repeat(32)}` } });
    await expect(
      t.request('POST', '/api/v1/login', { json: { username: 'u', password: 'Secret1!x' } }),
    ).rejects.toMatchObject({
      code: 'FP_SSR_TLS_UNTRUSTED',
      details: { key: 'ssr.tls.fingerprint' },
    });
    expect(seen).toEqual([]);
    t.close();
  });

  it('accepts any certificate only when insecure, and warns about it at config time', async () => {
    const t = transport({ tls: { insecure: true } });
    await expect(t.request('GET', '/x')).resolves.toMatchObject({ status: 200 });
    t.close();
    expect(ssrConfigWarnings(parseSsrBackendConfig({ tls: { insecure: true } }))).toEqual([
      expect.stringContaining('ssr.tls.insecure is true'),
    ]);
  });

  it('reports a closed port and a silent server as FP_SSR_UNREACHABLE', async () => {
    const closed = createHttpsTransport(
      parseSsrBackendConfig({ baseUrl: 'https://127.0.0.1:1', tls: { insecure: true } }),
    );
    await expect(closed.request('GET', '/x')).rejects.toMatchObject({
      code: 'FP_SSR_UNREACHABLE',
      details: { networkError: 'ECONNREFUSED' },
    });
    const t = transport({ tls: { caFile: join(dir, 'ca.pem') } });
    await expect(t.request('GET', '/slow')).rejects.toMatchObject({
      code: 'FP_SSR_UNREACHABLE',
      details: { key: 'ssr.timeoutMs' },
    });
    t.close();
  });

  it('says which CA file it cannot read', () => {
    expect(() => transport({ tls: { caFile: join(dir, 'missing.pem') } })).toThrow(
      expect.objectContaining({ code: 'FP_CONFIG_UNREADABLE', details: { key: 'ssr.tls.caFile' } }),
    );
  });
});
