/**
 * X.509 operations on top of @peculiar/x509 and Node's WebCrypto: a CA, server and client certificates,
 * CSRs and signing. Keys are ECDSA P-256 (fast to generate, supported by grpc-js/OpenSSL).
 */
// tsyringe, which @peculiar/x509 uses inside, needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { webcrypto, randomBytes, X509Certificate as NodeX509 } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { FleetpassError } from '../errors';
import { formatFingerprint } from './fingerprint';
import { commonName } from './subject';

// No DOM lib here: name WebCrypto's types through Node's module.
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface CertAndKey {
  certPem: string;
  keyPem: string;
}

export interface CertificateInfo {
  commonName: string;
  notBefore: Date;
  notAfter: Date;
  serialNumber: string;
  /** sha256:<hex> of the DER certificate. */
  fingerprint: string;
  issuer: string;
}

function serial(): string {
  // Positive 16-byte serial: clear the top bit.
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  try {
    const der = x509.PemConverter.decodeFirst(pem);
    return await webcrypto.subtle.importKey('pkcs8', der, ALG, false, ['sign']);
  } catch (e) {
    throw new FleetpassError('FP_TLS_MATERIAL', 'the CA private key cannot be read', { cause: e });
  }
}

function validity(validDays: number): { notBefore: Date; notAfter: Date } {
  // Backdate a little so small clock differences between hosts do not reject a fresh certificate.
  const notBefore = new Date(Date.now() - 5 * 60_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + validDays * DAY_MS) };
}

/** A self-signed CA that signs the controller's server certificate and every node certificate. */
export async function createCa(opts: { commonName?: string; validDays?: number } = {}): Promise<CertAndKey> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${opts.commonName ?? 'fleetpass CA'}`,
    ...validity(opts.validDays ?? 3650),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

async function issue(
  ca: CertAndKey,
  subjectCn: string,
  publicKey: CryptoKey | x509.PublicKey,
  usage: 'server' | 'client',
  validDays: number,
  hosts: string[] = [],
): Promise<string> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const signingKey = await importPrivateKey(ca.keyPem);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
    new x509.ExtendedKeyUsageExtension([
      usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
    ]),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
  ];
  if (hosts.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        hosts.map((h) =>
          /^[\d.]+$|:/.test(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h },
        ),
      ),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${subjectCn}`,
    issuer: caCert.subject,
    ...validity(validDays),
    signingAlgorithm: ALG,
    publicKey,
    signingKey,
    extensions,
  });
  return cert.toString('pem');
}

/** The controller's TLS server certificate for the given host names and IP addresses. */
export async function issueServerCertificate(
  ca: CertAndKey,
  opts: { hosts: string[]; validDays?: number; commonName?: string },
): Promise<CertAndKey> {
  const keys = await generateKeys();
  const certPem = await issue(
    ca,
    opts.commonName ?? opts.hosts[0] ?? 'fleetpass-controller',
    keys.publicKey,
    'server',
    opts.validDays ?? 825,
    opts.hosts,
  );
  return { certPem, keyPem: await privateKeyPem(keys.privateKey) };
}

/** A client certificate whose subject CN is the node id (or operator name). */
export async function issueClientCertificate(
  ca: CertAndKey,
  opts: { commonName: string; validDays?: number },
): Promise<CertAndKey> {
  const keys = await generateKeys();
  const certPem = await issue(ca, opts.commonName, keys.publicKey, 'client', opts.validDays ?? 365);
  return { certPem, keyPem: await privateKeyPem(keys.privateKey) };
}

/** A fresh key pair and a PKCS#10 request for it; the key never leaves the node. */
export async function createKeyAndCsr(opts: { commonName: string }): Promise<{ keyPem: string; csrPem: string }> {
  const keys = await generateKeys();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${opts.commonName}`,
    keys,
    signingAlgorithm: ALG,
  });
  return { keyPem: await privateKeyPem(keys.privateKey), csrPem: csr.toString('pem') };
}

/**
 * Signs a node's CSR as a client certificate. The subject is set from `commonName` (decided by the
 * controller), never taken from the CSR, so a node cannot choose its own identity.
 */
export async function signCsr(
  ca: CertAndKey,
  csrPem: string,
  opts: { commonName: string; validDays?: number },
): Promise<string> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (e) {
    throw new FleetpassError('FP_CSR_INVALID', 'the certificate signing request cannot be parsed', { cause: e });
  }
  if (!(await csr.verify()))
    throw new FleetpassError('FP_CSR_INVALID', 'the certificate signing request signature does not verify');
  return issue(ca, opts.commonName, csr.publicKey, 'client', opts.validDays ?? 365);
}

/** "sha256:<hex>" of a PEM certificate's DER bytes; what operators pin at enrollment. */
export function certificateFingerprint(pem: string): string {
  return formatFingerprint(new NodeX509(pem).fingerprint256);
}

/** Subject CN, validity, serial and fingerprint of a PEM certificate. */
export function readCertificateInfo(pem: string): CertificateInfo {
  const cert = new NodeX509(pem);
  return {
    commonName: commonName(cert) ?? '',
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    serialNumber: cert.serialNumber.toLowerCase(),
    fingerprint: certificateFingerprint(pem),
    issuer: cert.issuer.replace(/\n/g, ', '),
  };
}

/** True when `certPem` was signed by `caPem` (signature check only; validity dates are checked by TLS). */
export function isSignedBy(certPem: string, caPem: string): boolean {
  try {
    return new NodeX509(certPem).verify(new NodeX509(caPem).publicKey);
  } catch {
    return false;
  }
}
