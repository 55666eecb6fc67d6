/**
 * Enrolls this node: finds the controller CA by its pinned fingerprint (pinned-ca.ts), makes the node's
 * key here (it never leaves the node), sends the CSR with the one-time token over TLS that trusts only that
 * CA, checks the answer (the CA is the pinned one, the certificate is for our key and signed by it), and
 * stores key (0600), certificate and CA where the config names them.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { FleetpassError } from '../../shared/errors';
import { createKeyAndCsr } from '../../shared/pki';
import { formatFingerprint } from '../../shared/pki/fingerprint';
import { commonName } from '../../shared/pki/subject';
import type { AgentConfig } from '../config';
import { callEnroll } from './agent-calls';
import { keyMatchesCertificate, writeCredentials } from './credential-files';
import { fetchPinnedCa, parsePinnedFingerprint } from './pinned-ca';

export interface EnrollNodeOptions {
  controller: AgentConfig['controller'];
  /** host:port to enroll with (defaults to controller.address). */
  address?: string;
  caFingerprint: string;
  token: string;
  hostname: string;
  /** Replace an existing certificate. */
  force?: boolean;
  timeoutMs?: number;
}

export interface EnrolledNode {
  nodeId: string;
  notAfter: Date;
  labels: Record<string, string>;
  files: { caFile: string; certFile: string; keyFile: string };
}

/** Runs the whole enrollment; throws a FleetpassError (nothing is written unless it succeeds). */
export async function enrollNode(o: EnrollNodeOptions): Promise<EnrolledNode> {
  const { controller } = o;
  const files = { caFile: controller.caFile, certFile: controller.certFile, keyFile: controller.keyFile };
  if (!o.force && existsSync(files.certFile)) {
    throw new FleetpassError(
      'FP_ALREADY_ENROLLED',
      `this node already has a certificate (${files.certFile}); remove it, or pass --force, to enroll again`,
    );
  }
  const pinned = parsePinnedFingerprint(o.caFingerprint);
  const token = o.token.trim();
  if (!token) throw new FleetpassError('FP_INVALID_ARGUMENT', 'the enrollment token is empty');
  const address = o.address ?? controller.address;
  const target = { address, serverName: controller.serverName, timeoutMs: o.timeoutMs };
  const caPem = await fetchPinnedCa({ address, pinned, serverName: controller.serverName, timeoutMs: o.timeoutMs });
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: o.hostname.slice(0, 64) || 'fleetpass-node' });
  const res = await callEnroll(target, caPem, { token, csrPem, hostname: o.hostname });

  let cert: X509Certificate;
  try {
    cert = new X509Certificate(res.certificatePem);
  } catch (e) {
    throw new FleetpassError(
      'FP_TLS_MATERIAL',
      'the controller answered with a certificate that cannot be read; nothing was written',
      { cause: e },
    );
  }
  if (!res.caCertificatePem || formatFingerprint(new X509Certificate(res.caCertificatePem).fingerprint256) !== pinned) {
    throw new FleetpassError(
      'FP_CA_FINGERPRINT_MISMATCH',
      'the controller answered with another CA than the pinned one; nothing was written',
    );
  }
  const ca = new X509Certificate(res.caCertificatePem);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey) || !keyMatchesCertificate(keyPem, res.certificatePem)) {
    throw new FleetpassError(
      'FP_TLS_MATERIAL',
      'the certificate from the controller is not for this key or not signed by the pinned CA; nothing was written',
    );
  }
  const cn = commonName(cert);
  if (cn !== res.nodeId)
    throw new FleetpassError(
      'FP_TLS_MATERIAL',
      `the certificate names ${cn ?? 'nothing'}, not the node id ${res.nodeId} the controller gave; nothing was written`,
    );
  writeCredentials(files, { keyPem, certPem: res.certificatePem, caPem: res.caCertificatePem });
  return { nodeId: res.nodeId, notAfter: new Date(cert.validTo), labels: res.labels, files };
}
