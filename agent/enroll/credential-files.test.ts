import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueClientCertificate, type CertAndKey } from '../../shared/pki';
import { keyMatchesCertificate, recoverPendingCredentials, writeCredentials } from './credential-files';

let dir: string;
let ca: CertAndKey;
let a: CertAndKey;
let b: CertAndKey;
const paths = () => ({
  caFile: join(dir, 'ca.crt'),
  certFile: join(dir, 'state', 'node.crt'),
  keyFile: join(dir, 'state', 'node.key'),
});

beforeAll(async () => {
  ca = await createCa();
  a = await issueClientCertificate(ca, { commonName: 'n1' });
  b = await issueClientCertificate(ca, { commonName: 'n1' });
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fp-creds-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('credential files', () => {
  it('writes CA, key (0600) and certificate, creating the folder, and leaves no temporary file', () => {
    const p = paths();
    writeCredentials(p, { keyPem: a.keyPem, certPem: a.certPem, caPem: ca.certPem });
    expect(readFileSync(p.certFile, 'utf8')).toBe(a.certPem);
    expect(statSync(p.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(p.certFile).mode & 0o777).toBe(0o644);
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700);
    expect([`${p.keyFile}.new`, `${p.certFile}.new`, `${p.caFile}.new`].some(existsSync)).toBe(false);
    expect(recoverPendingCredentials(p)).toBe('none');
  });

  it('refuses a certificate for another key and writes nothing', () => {
    const p = paths();
    expect(() => writeCredentials(p, { keyPem: a.keyPem, certPem: b.certPem })).toThrow(
      expect.objectContaining({ code: 'FP_TLS_MATERIAL' }),
    );
    expect(existsSync(p.keyFile)).toBe(false);
    expect(keyMatchesCertificate(a.keyPem, a.certPem)).toBe(true);
    expect(keyMatchesCertificate(a.keyPem, b.certPem)).toBe(false);
  });

  it('finishes a swap cut between the key and certificate renames', () => {
    const p = paths();
    writeCredentials(p, { keyPem: a.keyPem, certPem: a.certPem, caPem: ca.certPem });
    // What a crash right after renaming the new key leaves: new key, old certificate, new certificate waiting.
    writeFileSync(p.keyFile, b.keyPem, { mode: 0o600 });
    writeFileSync(`${p.certFile}.new`, b.certPem);
    expect(keyMatchesCertificate(readFileSync(p.keyFile), readFileSync(p.certFile))).toBe(false);
    expect(recoverPendingCredentials(p)).toBe('completed');
    expect(readFileSync(p.certFile, 'utf8')).toBe(b.certPem);
    expect(keyMatchesCertificate(readFileSync(p.keyFile), readFileSync(p.certFile))).toBe(true);
  });

  it('finishes a swap cut before any rename, and drops leftovers that do not match', () => {
    const p = paths();
    writeCredentials(p, { keyPem: a.keyPem, certPem: a.certPem, caPem: ca.certPem });
    writeFileSync(`${p.keyFile}.new`, b.keyPem, { mode: 0o600 });
    writeFileSync(`${p.certFile}.new`, b.certPem);
    expect(recoverPendingCredentials(p)).toBe('completed');
    expect(readFileSync(p.keyFile, 'utf8')).toBe(b.keyPem);
    expect(statSync(p.keyFile).mode & 0o777).toBe(0o600);

    writeFileSync(`${p.keyFile}.new`, a.keyPem); // a half-written swap whose certificate never arrived
    expect(recoverPendingCredentials(p)).toBe('discarded');
    expect(existsSync(`${p.keyFile}.new`)).toBe(false);
    expect(readFileSync(p.keyFile, 'utf8')).toBe(b.keyPem);
    renameSync(p.certFile, `${p.certFile}.new`); // a certificate that matches the key in place is moved back in
    expect(recoverPendingCredentials(p)).toBe('completed');
    expect(readFileSync(p.certFile, 'utf8')).toBe(b.certPem);
  });
});
