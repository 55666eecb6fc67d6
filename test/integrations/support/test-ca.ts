/** TEST ONLY: a CA and a server certificate for 127.0.0.1/localhost made with the project's PKI helpers, as files. */
import { join } from 'node:path';
import { createCa, issueServerCertificate, writeSecureFile, type CertAndKey } from '../../../shared/pki';

export interface TestCaFiles {
  ca: CertAndKey;
  server: CertAndKey;
  caFile: string;
  certFile: string;
  keyFile: string;
}

export async function writeTestCa(dir: string, name = 'receiver'): Promise<TestCaFiles> {
  const ca = await createCa({ commonName: `${name} test CA` });
  const server = await issueServerCertificate(ca, { hosts: ['127.0.0.1', 'localhost'], commonName: `${name}.test` });
  const caFile = join(dir, `${name}-ca.crt`);
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  writeSecureFile(caFile, ca.certPem, 0o644);
  writeSecureFile(certFile, server.certPem, 0o644);
  writeSecureFile(keyFile, server.keyPem);
  return { ca, server, caFile, certFile, keyFile };
}
