/** A node's identity comes from its verified TLS client certificate, never from what it says. */
import type { PeerCertificate } from 'node:tls';
import { formatFingerprint } from './fingerprint';

/** The subject CN of the peer certificate, or undefined when there is none. */
export function nodeIdFromPeerCertificate(cert: PeerCertificate | undefined | null): string | undefined {
  if (!cert || !cert.subject) return undefined;
  const cn = (cert.subject as unknown as Record<string, string | string[]>).CN;
  const value = Array.isArray(cn) ? cn[0] : cn;
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** "sha256:<hex>" of the peer certificate, to match against revocations. */
export function peerFingerprint(cert: PeerCertificate | undefined | null): string | undefined {
  if (!cert?.fingerprint256) return undefined;
  return formatFingerprint(cert.fingerprint256);
}
