/**
 * Operator client certificates: issued by the controller CA with OU=fleetpass-operator and CN=<operator>,
 * and recognised only with that OU, a valid signature from the CA and a current validity window. Node
 * certificates (no OU, issued at enrollment) can therefore never sign in as an operator, even when a node
 * id equals an operator name.
 */
import 'reflect-metadata';
import { randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { FleetpassError } from '../../shared/errors';
import type { CertAndKey } from '../../shared/pki';
import { commonName, subjectValues } from '../../shared/pki/subject';
import { assertOperatorName } from './operators';

export const OPERATOR_OU = 'fleetpass-operator';
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** Issues a client certificate (and its new key) for operator `name`. */
export async function issueOperatorCertificate(
  ca: CertAndKey,
  name: string,
  opts: { validDays?: number; now?: Date } = {},
): Promise<CertAndKey> {
  assertOperatorName(name);
  const caCert = new x509.X509Certificate(ca.certPem);
  let signingKey: webcrypto.CryptoKey;
  try {
    signingKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.keyPem), ALG, false, [
      'sign',
    ]);
  } catch (e) {
    throw new FleetpassError('FP_TLS_MATERIAL', 'the CA private key cannot be read', { cause: e });
  }
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const notBefore = new Date((opts.now ?? new Date()).getTime() - 5 * 60_000);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    // Structured, not a "CN=..." string, so no name can smuggle in another attribute.
    subject: new x509.Name([{ OU: [OPERATOR_OU] }, { CN: [name] }]),
    issuer: caCert.subjectName,
    notBefore,
    notAfter: new Date(notBefore.getTime() + (opts.validDays ?? 365) * 86_400_000),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  return { certPem: cert.toString('pem'), keyPem };
}

export type OperatorCertCheck =
  { ok: true; name: string } | { ok: false; why: 'not-operator' | 'untrusted' | 'expired' };

/**
 * Checks a client certificate the TLS layer accepted without verifying (the admin port asks for one but
 * does not require it): the operator OU, a signature by `caPem`, and the validity window at `now`.
 */
export function checkOperatorCertificate(peer: PeerCertificate, caPem: string, now: Date): OperatorCertCheck {
  if (!peer.raw) return { ok: false, why: 'not-operator' };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(peer.raw);
  } catch {
    return { ok: false, why: 'untrusted' };
  }
  const ous = subjectValues(cert, 'OU');
  const name = commonName(cert);
  if (ous.length !== 1 || ous[0] !== OPERATOR_OU || !name) return { ok: false, why: 'not-operator' };
  try {
    const ca = new X509Certificate(caPem);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return { ok: false, why: 'untrusted' };
    if (new Date(cert.validFrom).getTime() > now.getTime() || new Date(cert.validTo).getTime() <= now.getTime())
      return { ok: false, why: 'expired' };
  } catch {
    return { ok: false, why: 'untrusted' };
  }
  return { ok: true, name };
}
