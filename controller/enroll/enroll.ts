/**
 * Enrollment: a one-time token and a CSR become a node certificate. The node id is the token's, or
 * derived from the hostname; an existing node is only enrolled again with a token that names it (then its
 * older certificates are revoked, a revocation lifted and its open stream cut). The token is spent in the
 * same transaction that records the certificate, so two racing enrollments cannot both use it. Every
 * refusal is audited; wrong tokens count against the peer address and too many are refused for a while.
 */
import { FleetpassError, asFleetpassError } from '../../shared/errors';
import { readCertificateInfo, signCsr } from '../../shared/pki';
import { recordAudited } from '../audit';
import { nodeActor } from '../dispatch';
import { peerAddress } from '../server/peer-address';
import type { EnrollDeps } from './deps';
import { nodeIdFromHostname } from './node-id';
import { checkEnrollmentToken, enrollmentTokenId, tokenRefusal } from './tokens';

export interface EnrollInput {
  token: string;
  csrPem: string;
  hostname: string;
  /** The caller's grpc-js peer string (address:port). */
  peer: string;
}

export interface EnrollResult {
  nodeId: string;
  certificatePem: string;
  caCertificatePem: string;
  labels: Record<string, string>;
}

const MAX_CSR_BYTES = 16 * 1024;

function peerActor(address: string): string {
  return `peer:${address}`;
}

/** Audits a refusal in its own transaction; a failing audit write only makes it louder in the log. */
function auditRefusal(
  deps: EnrollDeps,
  address: string,
  err: FleetpassError,
  facts: { tokenId?: string; nodeId?: string; why?: string; hostname?: string },
): void {
  try {
    recordAudited(deps.store.db, () =>
      deps.audit.append({
        actor: peerActor(address),
        action: 'enrollment.refused',
        nodeId: facts.nodeId ?? '',
        outcome: 'refused',
        reason: err.message,
        details: {
          code: err.code,
          why: facts.why,
          tokenId: facts.tokenId,
          hostname: facts.hostname?.slice(0, 100),
          peer: address,
        },
      }),
    );
  } catch (e) {
    deps.log.error({ err: e, peer: address }, 'cannot audit a refused enrollment');
  }
}

/** Exchanges a token and a CSR for a node certificate; throws FP_TOKEN_INVALID, FP_RATE_LIMITED, FP_NODE_EXISTS, FP_NODE_ID_INVALID or FP_CSR_INVALID. */
export async function enroll(deps: EnrollDeps, input: EnrollInput): Promise<EnrollResult> {
  const address = peerAddress(input.peer);
  const log = deps.log.child({ peer: address });
  if (deps.tokenFailures.blocked(address)) {
    log.warn('enrollment refused: too many wrong tokens from this address');
    throw new FleetpassError(
      'FP_RATE_LIMITED',
      `too many wrong enrollment tokens from ${address}; wait ${Math.round(deps.settings.tokenFailureWindowSeconds / 60)} minutes and try again with a valid token`,
    );
  }
  const facts: { tokenId?: string; nodeId?: string; why?: string; hostname?: string } = {
    tokenId: enrollmentTokenId(input.token),
    hostname: input.hostname,
  };
  try {
    const check = checkEnrollmentToken(deps, input.token, deps.clock.now());
    if (!check.ok) {
      facts.why = check.why;
      facts.nodeId = check.token?.nodeId || undefined;
      const err = new FleetpassError('FP_TOKEN_INVALID', tokenRefusal(check.why));
      if (deps.tokenFailures.hit(address)) {
        log.warn({ maxFailures: deps.settings.maxTokenFailures }, 'enrollment rate limit reached');
        try {
          recordAudited(deps.store.db, () =>
            deps.audit.append({
              actor: peerActor(address),
              action: 'enrollment.rate_limited',
              outcome: 'refused',
              reason: `${deps.settings.maxTokenFailures} wrong enrollment tokens within ${deps.settings.tokenFailureWindowSeconds} seconds`,
              details: { peer: address, windowSeconds: deps.settings.tokenFailureWindowSeconds },
            }),
          );
        } catch (e) {
          log.error({ err: e }, 'cannot audit the enrollment rate limit');
        }
      }
      throw err;
    }
    const token = check.token;
    const explicit = token.nodeId !== '';
    const nodeId = explicit ? token.nodeId : nodeIdFromHostname(input.hostname);
    facts.nodeId = nodeId;
    const existing = deps.store.nodes.get(nodeId);
    if (existing && !explicit) {
      facts.why = 'node-exists';
      throw new FleetpassError(
        'FP_NODE_EXISTS',
        `a node with id ${nodeId} is already enrolled; an admin must create a token for --node-id ${nodeId} to enroll it again (the token was not used)`,
      );
    }
    if (Buffer.byteLength(input.csrPem) > MAX_CSR_BYTES)
      throw new FleetpassError('FP_CSR_INVALID', 'the certificate signing request is too large');
    // Signing is async (WebCrypto); the token is spent afterwards, in the transaction that records the result.
    const certificatePem = await signCsr(deps.ca, input.csrPem, {
      commonName: nodeId,
      validDays: deps.settings.nodeCertificateDays,
    });
    const info = readCertificateInfo(certificatePem);
    const now = deps.clock.now().toISOString();
    let reenrolled = false;
    recordAudited(deps.store.db, () => {
      if (!deps.repo.useToken(token.id, nodeId, now)) {
        facts.why = 'used-meanwhile';
        throw new FleetpassError('FP_TOKEN_INVALID', tokenRefusal('used'));
      }
      const current = deps.store.nodes.get(nodeId);
      if (current && !explicit) {
        facts.why = 'node-exists';
        throw new FleetpassError('FP_NODE_EXISTS', `a node with id ${nodeId} was enrolled meanwhile`);
      }
      reenrolled = !!current;
      let revokedCertificates = 0;
      if (current) {
        revokedCertificates = deps.repo.revokeCertificatesOf(nodeId, 're-enrolled', now);
        if (current.revoked) deps.store.nodes.setRevoked(nodeId, false);
      }
      deps.store.nodes.ensure(nodeId, deps.clock.now(), token.labels);
      deps.repo.insertCertificate({
        fingerprint: info.fingerprint,
        nodeId,
        serial: info.serialNumber,
        notBefore: info.notBefore.toISOString(),
        notAfter: info.notAfter.toISOString(),
        issued: now,
        via: 'enroll',
        tokenId: token.id,
      });
      deps.repo.recordEnrollment(nodeId, token.id, token.labels, now);
      deps.audit.append({
        actor: nodeActor(nodeId),
        action: 'node.enrolled',
        nodeId,
        outcome: 'ok',
        details: {
          tokenId: token.id,
          tokenCreatedBy: token.createdBy,
          hostname: input.hostname.slice(0, 100),
          peer: address,
          fingerprint: info.fingerprint,
          serial: info.serialNumber,
          notAfter: info.notAfter.toISOString(),
          labels: token.labels,
          reenrolled,
          revokedCertificates,
          wasRevoked: current?.revoked ?? false,
        },
      });
    });
    deps.tokenFailures.reset(address);
    if (reenrolled) {
      // Its old certificates are revoked: a stream opened with one of them must not outlive that.
      deps.sessions
        .get(nodeId)
        ?.close(
          'node enrolled again',
          new FleetpassError(
            'FP_CERTIFICATE_REVOKED',
            `node ${nodeId} was enrolled again; its previous certificates are revoked`,
          ),
        );
    }
    log.info(
      { nodeId, tokenId: token.id, fingerprint: info.fingerprint, notAfter: info.notAfter.toISOString(), reenrolled },
      'node enrolled',
    );
    return { nodeId, certificatePem, caCertificatePem: deps.ca.certPem, labels: { ...token.labels } };
  } catch (e) {
    const err = asFleetpassError(e);
    facts.why ??=
      err.code === 'FP_CSR_INVALID' ? 'csr-invalid' : err.code === 'FP_NODE_ID_INVALID' ? 'node-id-invalid' : undefined;
    auditRefusal(deps, address, err, facts);
    log.warn({ code: err.code, why: facts.why, tokenId: facts.tokenId, nodeId: facts.nodeId }, 'enrollment refused');
    throw err;
  }
}
