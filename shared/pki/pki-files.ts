/** PKI material on disk: the controller's CA and server certificate created at first start, keys 0600. */
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FleetpassError } from '../errors';
import {
  certificateFingerprint,
  createCa,
  issueClientCertificate,
  issueServerCertificate,
  readCertificateInfo,
  type CertAndKey,
} from './x509-ops';

export interface ControllerPki {
  ca: CertAndKey;
  server: CertAndKey;
  caFingerprint: string;
  files: { caCert: string; caKey: string; serverCert: string; serverKey: string };
}

/**
 * Writes a file readable by its owner only (keys) or by anyone (certificates), synced to disk with its
 * folder entry: a CA key written once at first start must not come back empty after a power cut.
 */
export function writeSecureFile(path: string, content: string, mode = 0o600): void {
  const fd = openSync(path, 'w', mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, mode);
  try {
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Some file systems cannot sync a folder; the file itself is synced.
  }
}

function readPem(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new FleetpassError('FP_TLS_MATERIAL', `cannot read ${path}`, { cause: e });
  }
}

/**
 * Loads the controller's CA and server certificate from `dir`, creating them on first start. A server
 * certificate that expires within 30 days, or lacks one of `hosts`, is re-issued from the same CA.
 */
export async function ensureControllerPki(dir: string, opts: { hosts: string[] }): Promise<ControllerPki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
  };
  let ca: CertAndKey;
  if (existsSync(files.caCert) && existsSync(files.caKey)) {
    ca = { certPem: readPem(files.caCert), keyPem: readPem(files.caKey) };
  } else {
    ca = await createCa();
    writeSecureFile(files.caKey, ca.keyPem);
    writeSecureFile(files.caCert, ca.certPem, 0o644);
  }
  let server: CertAndKey | undefined;
  if (existsSync(files.serverCert) && existsSync(files.serverKey)) {
    server = { certPem: readPem(files.serverCert), keyPem: readPem(files.serverKey) };
    const info = readCertificateInfo(server.certPem);
    const { X509Certificate } = await import('node:crypto');
    const cert = new X509Certificate(server.certPem);
    const coversHosts = opts.hosts.every((h) => (cert.subjectAltName ?? '').includes(h));
    if (
      info.notAfter.getTime() - Date.now() < 30 * 86_400_000 ||
      !coversHosts ||
      !cert.verify(new X509Certificate(ca.certPem).publicKey)
    )
      server = undefined;
  }
  if (!server) {
    server = await issueServerCertificate(ca, { hosts: opts.hosts });
    writeSecureFile(files.serverKey, server.keyPem);
    writeSecureFile(files.serverCert, server.certPem, 0o644);
  }
  return { ca, server, caFingerprint: certificateFingerprint(ca.certPem), files };
}

export interface TestPkiFiles {
  ca: CertAndKey;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  nodes: Record<string, { certFile: string; keyFile: string }>;
}

/** Test helper: a CA, a server certificate for localhost/127.0.0.1 and one client certificate per node id. */
export async function writeTestPki(dir: string, nodeIds: string[]): Promise<TestPkiFiles> {
  mkdirSync(dir, { recursive: true });
  const ca = await createCa({ commonName: 'fleetpass test CA' });
  const server = await issueServerCertificate(ca, { hosts: ['localhost', '127.0.0.1'] });
  const out: TestPkiFiles = {
    ca,
    caFile: join(dir, 'ca.crt'),
    serverCertFile: join(dir, 'server.crt'),
    serverKeyFile: join(dir, 'server.key'),
    nodes: {},
  };
  writeSecureFile(out.caFile, ca.certPem, 0o644);
  writeSecureFile(out.serverCertFile, server.certPem, 0o644);
  writeSecureFile(out.serverKeyFile, server.keyPem);
  for (const id of nodeIds) {
    const node = await issueClientCertificate(ca, { commonName: id });
    const certFile = join(dir, `${id}.crt`);
    const keyFile = join(dir, `${id}.key`);
    writeSecureFile(certFile, node.certPem, 0o644);
    writeSecureFile(keyFile, node.keyPem);
    out.nodes[id] = { certFile, keyFile };
  }
  return out;
}
