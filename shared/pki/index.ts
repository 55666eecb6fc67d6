/** PKI: the controller CA, server and node certificates, CSRs, fingerprints and peer identity. */
export {
  createCa,
  issueServerCertificate,
  issueClientCertificate,
  createKeyAndCsr,
  signCsr,
  certificateFingerprint,
  readCertificateInfo,
  isSignedBy,
  type CertAndKey,
  type CertificateInfo,
} from './x509-ops';
export { nodeIdFromPeerCertificate, peerFingerprint } from './peer-identity';
export {
  SHA256_FINGERPRINT,
  PREFIXED_SHA256_FINGERPRINT,
  formatFingerprint,
  normalizeFingerprint,
} from './fingerprint';
export { ensureControllerPki, writeTestPki, writeSecureFile, type ControllerPki, type TestPkiFiles } from './pki-files';
