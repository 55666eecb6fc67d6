/**
 * Renewal: a node authenticated by its current, unrevoked certificate gets a fresh one for a new key,
 * with no token. The identity is the verified peer's, never the CSR's. The old certificate stays valid
 * until the node connects with the new one (then it is retired), so a lost answer does not strand the node.
 */
import { FleetpassError, asFleetpassError } from '../../shared/errors';
import { readCertificateInfo, signCsr } from '../../shared/pki';
import { recordAudited } from '../audit';
import { nodeActor } from '../dispatch';
import { peerAddress } from '../server/peer-address';
import type { EnrollDeps } from './deps';
import type { VerifiedPeer } from './peer-certificate';

export interface RenewResult {
  certificatePem: string;
  caCertificatePem: string;
}

const MAX_CSR_BYTES = 16 * 1024;

/** Issues a new certificate to `peer`'s node for the key in `csrPem`; throws FP_NODE_REVOKED, FP_RATE_LIMITED or FP_CSR_INVALID (audited). */
export async function renew(
  deps: EnrollDeps,
  peer: VerifiedPeer,
  csrPem: string,
  peerString = '',
): Promise<RenewResult> {
  const { nodeId } = peer;
  const address = peerAddress(peerString);
  const log = deps.log.child({ nodeId, peer: address });
  try {
    if (deps.store.nodes.get(nodeId)?.revoked)
      throw new FleetpassError('FP_NODE_REVOKED', `node ${nodeId} is revoked and cannot renew its certificate`);
    if (deps.renewals.blocked(nodeId)) {
      throw new FleetpassError(
        'FP_RATE_LIMITED',
        `node ${nodeId} asked for more than ${deps.settings.maxRenewals} certificates within ${deps.settings.renewalWindowSeconds} seconds`,
      );
    }
    deps.renewals.hit(nodeId);
    if (Buffer.byteLength(csrPem) > MAX_CSR_BYTES)
      throw new FleetpassError('FP_CSR_INVALID', 'the certificate signing request is too large');
    const certificatePem = await signCsr(deps.ca, csrPem, {
      commonName: nodeId,
      validDays: deps.settings.nodeCertificateDays,
    });
    const info = readCertificateInfo(certificatePem);
    const now = deps.clock.now().toISOString();
    recordAudited(deps.store.db, () => {
      // Revoked while the certificate was being signed: refuse, and keep nothing.
      if (deps.store.nodes.get(nodeId)?.revoked)
        throw new FleetpassError('FP_NODE_REVOKED', `node ${nodeId} is revoked and cannot renew its certificate`);
      deps.repo.insertCertificate({
        fingerprint: info.fingerprint,
        nodeId,
        serial: info.serialNumber,
        notBefore: info.notBefore.toISOString(),
        notAfter: info.notAfter.toISOString(),
        issued: now,
        via: 'renew',
        tokenId: '',
      });
      deps.audit.append({
        actor: nodeActor(nodeId),
        action: 'node.certificate_renewed',
        nodeId,
        outcome: 'ok',
        details: {
          previous: peer.fingerprint,
          fingerprint: info.fingerprint,
          serial: info.serialNumber,
          notAfter: info.notAfter.toISOString(),
          peer: address,
        },
      });
    });
    log.info({ fingerprint: info.fingerprint, notAfter: info.notAfter.toISOString() }, 'node certificate renewed');
    return { certificatePem, caCertificatePem: deps.ca.certPem };
  } catch (e) {
    const err = asFleetpassError(e);
    auditRenewRefusal(deps, nodeId, address, err, { fingerprint: peer.fingerprint });
    log.warn({ code: err.code }, 'renewal refused');
    throw err;
  }
}

/** Audits a refused renewal (also used when the caller's certificate itself is refused). */
export function auditRenewRefusal(
  deps: EnrollDeps,
  nodeId: string,
  address: string,
  err: FleetpassError,
  details: Record<string, unknown> = {},
): void {
  try {
    recordAudited(deps.store.db, () =>
      deps.audit.append({
        actor: nodeId ? nodeActor(nodeId) : `peer:${address}`,
        action: 'node.renew_refused',
        nodeId,
        outcome: 'refused',
        reason: err.message,
        details: { code: err.code, peer: address, ...details },
      }),
    );
  } catch (e) {
    deps.log.error({ err: e, nodeId }, 'cannot audit a refused renewal');
  }
}
