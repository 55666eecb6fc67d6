/**
 * Who is calling: the node id is the subject CN of the verified mutual-TLS client certificate, never
 * a field the node sends. This is the one place that reads it, so enrollment and revocation (issue 7)
 * can extend the check (e.g. certificate fingerprints) without touching the stream handling.
 */
import type { PeerCertificate } from 'node:tls';
import { nodeIdFromPeerCertificate, peerFingerprint } from '../../shared/pki';

export interface CallerIdentity {
  nodeId: string;
  /** sha256:<hex> of the client certificate. */
  fingerprint?: string;
  /** When the client certificate expires. */
  certificateExpires?: Date;
  /** Labels an admin gave the node at enrollment; they win over the labels in its hello. */
  labels?: Record<string, string>;
}

/** The identity in the call's client certificate, or undefined when there is none. */
export function identifyCaller(call: {
  getAuthContext(): { sslPeerCertificate?: PeerCertificate };
}): CallerIdentity | undefined {
  const cert = call.getAuthContext().sslPeerCertificate;
  const nodeId = nodeIdFromPeerCertificate(cert);
  if (!nodeId) return undefined;
  const expires = cert?.valid_to ? new Date(cert.valid_to) : undefined;
  return {
    nodeId,
    fingerprint: peerFingerprint(cert),
    certificateExpires: expires && !Number.isNaN(expires.getTime()) ? expires : undefined,
  };
}
