/**
 * The agent port's side of enrollment: the Enroll and Renew gRPC handlers, and the identity check every
 * Connect stream goes through (a verified, unrevoked node certificate; see peer-certificate.ts). Enroll
 * is the only call answered without a client certificate.
 */
import type { PeerCertificate } from 'node:tls';
import type { handleUnaryCall } from '@grpc/grpc-js';
import { asFleetpassError, toGrpcError } from '../../shared/errors';
import type { EnrollRequest, EnrollResponse, RenewRequest, RenewResponse } from '../../shared/gen/fleetpass/v1/agent';
import type { CallerIdentity } from '../server/node-identity';
import { peerAddress } from '../server/peer-address';
import type { EnrollDeps } from './deps';
import { enroll } from './enroll';
import { retireOlderCertificates, verifyPeerCertificate, type VerifiedPeer } from './peer-certificate';
import { auditRenewRefusal, renew } from './renew';

type AuthCall = { getAuthContext(): { sslPeerCertificate?: PeerCertificate }; getPeer(): string };

/** Enroll: token + CSR → node certificate; no client certificate needed. */
export function enrollHandler(deps: EnrollDeps): handleUnaryCall<EnrollRequest, EnrollResponse> {
  return (call, callback) => {
    const { token, csrPem, hostname } = call.request;
    enroll(deps, { token, csrPem, hostname, peer: call.getPeer() }).then(
      (r) => callback(null, r),
      (e) => callback(toGrpcError(asFleetpassError(e), deps.log)),
    );
  };
}

/** Renew: a new certificate for the calling node, authenticated by its current one. */
export function renewHandler(deps: EnrollDeps): handleUnaryCall<RenewRequest, RenewResponse> {
  return (call, callback) => {
    let peer: VerifiedPeer;
    try {
      peer = verifyPeerCertificate(deps, call.getAuthContext().sslPeerCertificate);
    } catch (e) {
      const err = asFleetpassError(e);
      const nodeId = typeof err.details.nodeId === 'string' ? err.details.nodeId : '';
      auditRenewRefusal(deps, nodeId, peerAddress(call.getPeer()), err, err.details);
      deps.log.warn({ code: err.code, why: err.details.why, nodeId }, 'renewal refused');
      callback(toGrpcError(err, deps.log));
      return;
    }
    renew(deps, peer, call.request.csrPem, call.getPeer()).then(
      (r) => callback(null, r),
      (e) => callback(toGrpcError(asFleetpassError(e), deps.log)),
    );
  };
}

/** The Connect identity check: throws FP_CLIENT_CERT_REQUIRED / FP_CERTIFICATE_REVOKED (the stream handler audits and refuses). */
export function identifyNode(deps: EnrollDeps): (call: AuthCall) => CallerIdentity {
  return (call) => {
    const peer = verifyPeerCertificate(deps, call.getAuthContext().sslPeerCertificate);
    retireOlderCertificates(deps, peer);
    return peer;
  };
}
