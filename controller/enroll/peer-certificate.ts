/**
 * Who is calling on the agent port. The port asks for a client certificate without requiring one (Enroll
 * has none yet), so every other call must prove itself here: a certificate signed by this controller's
 * CA (checked again here, not only trusted from the TLS layer), meant for a client and not an operator,
 * inside its validity, and not revoked. A node the controller has issued certificates to is held to
 * those: any other certificate for it (an older, replaced or hand-made one) is refused.
 */
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { FleetpassError } from '../../shared/errors';
import { formatFingerprint } from '../../shared/pki/fingerprint';
import { commonName, subjectValues } from '../../shared/pki/subject';
import { recordAudited } from '../audit';
import { nodeActor } from '../dispatch';
import type { CallerIdentity } from '../server/node-identity';
import type { EnrollDeps } from './deps';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const OPERATOR_OU = 'fleetpass-operator';

export interface VerifiedPeer extends CallerIdentity {
  fingerprint: string;
  serial: string;
  /** When the controller recorded issuing it (undefined for a certificate made outside enrollment). */
  issued?: string;
}

/** The verified node identity of a peer certificate; throws FP_CLIENT_CERT_REQUIRED or FP_CERTIFICATE_REVOKED. */
export function verifyPeerCertificate(deps: EnrollDeps, peer: PeerCertificate | undefined): VerifiedPeer {
  if (!peer?.raw) {
    throw new FleetpassError(
      'FP_CLIENT_CERT_REQUIRED',
      'no client certificate verified by the controller CA was presented',
      { details: { why: 'no-certificate' } },
    );
  }
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(peer.raw);
    ca = new X509Certificate(deps.ca.certPem);
  } catch {
    throw new FleetpassError('FP_CLIENT_CERT_REQUIRED', 'the client certificate cannot be read', {
      details: { why: 'unreadable' },
    });
  }
  const fingerprint = formatFingerprint(cert.fingerprint256);
  const nodeId = commonName(cert) ?? '';
  // Until the certificate is known to be a valid node certificate of this CA, its CN is only what the caller
  // claims: recorded as such (bounded), never as a node id, so a refused certificate cannot write records
  // that `audit --node X` would show as node X's.
  const claimed = { claimedName: nodeId.slice(0, 100), fingerprint };
  const facts = { nodeId, fingerprint };
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    throw new FleetpassError('FP_CLIENT_CERT_REQUIRED', 'the client certificate was not issued by this controller CA', {
      details: { why: 'untrusted', ...claimed },
    });
  }
  // The TLS layer checked the dates against the real clock; so does this (not the injected one).
  const now = Date.now();
  if (new Date(cert.validFrom).getTime() > now || new Date(cert.validTo).getTime() <= now) {
    throw new FleetpassError(
      'FP_CLIENT_CERT_REQUIRED',
      'the client certificate is not valid now (expired or not yet valid); enroll the node again',
      { details: { why: 'expired', ...claimed } },
    );
  }
  if (!nodeId || subjectValues(cert, 'OU').includes(OPERATOR_OU) || !(cert.keyUsage ?? []).includes(CLIENT_AUTH)) {
    throw new FleetpassError('FP_CLIENT_CERT_REQUIRED', 'the client certificate is not a node certificate', {
      details: { why: 'not-node', ...claimed },
    });
  }
  if (deps.store.nodes.get(nodeId)?.revoked)
    throw new FleetpassError('FP_NODE_REVOKED', 'the node is revoked', { details: { why: 'node-revoked', ...facts } });
  const recorded = deps.repo.getCertificate(fingerprint);
  if (recorded?.revoked) {
    throw new FleetpassError(
      'FP_CERTIFICATE_REVOKED',
      `the certificate of node ${nodeId} was revoked (${recorded.revokedReason})`,
      { details: { why: recorded.revokedReason, ...facts } },
    );
  }
  if (!recorded && deps.repo.hasCertificates(nodeId)) {
    throw new FleetpassError(
      'FP_CERTIFICATE_REVOKED',
      `node ${nodeId} must use a certificate the controller issued to it at enrollment or renewal`,
      { details: { why: 'not-issued-to-node', ...facts } },
    );
  }
  const expires = new Date(cert.validTo);
  return {
    nodeId,
    fingerprint,
    serial: cert.serialNumber.toLowerCase(),
    certificateExpires: expires,
    issued: recorded?.issued,
    labels: deps.repo.enrollmentLabels(nodeId),
  };
}

/**
 * Once a node connects with a certificate the controller issued, its older ones (already renewed) are
 * retired, so a copy of an old key is useless from then on. Audited when it retires any.
 */
export function retireOlderCertificates(deps: EnrollDeps, peer: VerifiedPeer): number {
  if (!peer.issued) return 0;
  if (!deps.repo.certificatesOf(peer.nodeId).some((c) => !c.revoked && c.issued < peer.issued!)) return 0;
  const now = deps.clock.now().toISOString();
  return recordAudited(deps.store.db, () => {
    const n = deps.repo.supersedeOlder(peer.nodeId, peer.issued!, now);
    if (n > 0) {
      deps.audit.append({
        actor: nodeActor(peer.nodeId),
        action: 'node.certificates_superseded',
        nodeId: peer.nodeId,
        outcome: 'revoked',
        details: { count: n, inUse: peer.fingerprint },
      });
    }
    return n;
  });
}
