/** Enrollment tokens, issued node certificates and enrollment labels (schema version 4): rows only; the rules live in controller/enroll. */
import type { Db } from './database';

export interface EnrollmentTokenRecord {
  id: string;
  salt: Buffer;
  hash: Buffer;
  labels: Record<string, string>;
  /** The node id the certificate will carry; '' lets the controller derive it from the hostname. */
  nodeId: string;
  created: string;
  createdBy: string;
  expires: string;
  used: string | null;
  usedByNode: string;
  revoked: string | null;
  revokedBy: string;
}

export interface NodeCertificateRecord {
  fingerprint: string;
  nodeId: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  issued: string;
  via: 'enroll' | 'renew';
  tokenId: string;
  revoked: string | null;
  revokedReason: string;
}

interface TokenRow {
  id: string;
  salt: Buffer;
  hash: Buffer;
  labels_json: string;
  node_id: string;
  created: string;
  created_by: string;
  expires: string;
  used: string | null;
  used_by_node: string;
  revoked: string | null;
  revoked_by: string;
}

interface CertRow {
  fingerprint: string;
  node_id: string;
  serial: string;
  not_before: string;
  not_after: string;
  issued: string;
  via: 'enroll' | 'renew';
  token_id: string;
  revoked: string | null;
  revoked_reason: string;
}

const toToken = (r: TokenRow): EnrollmentTokenRecord => ({
  id: r.id,
  salt: r.salt,
  hash: r.hash,
  labels: JSON.parse(r.labels_json) as Record<string, string>,
  nodeId: r.node_id,
  created: r.created,
  createdBy: r.created_by,
  expires: r.expires,
  used: r.used,
  usedByNode: r.used_by_node,
  revoked: r.revoked,
  revokedBy: r.revoked_by,
});

const toCert = (r: CertRow): NodeCertificateRecord => ({
  fingerprint: r.fingerprint,
  nodeId: r.node_id,
  serial: r.serial,
  notBefore: r.not_before,
  notAfter: r.not_after,
  issued: r.issued,
  via: r.via,
  tokenId: r.token_id,
  revoked: r.revoked,
  revokedReason: r.revoked_reason,
});

export type EnrollmentRepo = ReturnType<typeof createEnrollmentRepo>;

/** Prepared statements over enrollment_tokens, node_certificates and node_enrollments. */
export function createEnrollmentRepo(db: Db) {
  const getToken = db.prepare<[string], TokenRow>('SELECT * FROM enrollment_tokens WHERE id = ?');
  const listTokens = db.prepare<[], TokenRow>('SELECT * FROM enrollment_tokens ORDER BY created DESC, id');
  const insertToken =
    db.prepare(`INSERT INTO enrollment_tokens (id, salt, hash, labels_json, node_id, created, created_by, expires)
    VALUES (@id, @salt, @hash, @labels, @nodeId, @created, @createdBy, @expires)`);
  // The one place a token is spent: only an unused, unrevoked, unexpired token changes, so two racing
  // enrollments cannot both use it.
  const useToken = db.prepare(
    'UPDATE enrollment_tokens SET used = @now, used_by_node = @nodeId WHERE id = @id AND used IS NULL AND revoked IS NULL AND expires > @now',
  );
  const revokeToken = db.prepare(
    'UPDATE enrollment_tokens SET revoked = ?, revoked_by = ? WHERE id = ? AND revoked IS NULL AND used IS NULL',
  );
  const getCert = db.prepare<[string], CertRow>('SELECT * FROM node_certificates WHERE fingerprint = ?');
  const certsOf = db.prepare<[string], CertRow>(
    'SELECT * FROM node_certificates WHERE node_id = ? ORDER BY issued, fingerprint',
  );
  const countCertsOf = db.prepare<[string], { n: number }>(
    'SELECT count(*) AS n FROM node_certificates WHERE node_id = ?',
  );
  const insertCert =
    db.prepare(`INSERT INTO node_certificates (fingerprint, node_id, serial, not_before, not_after, issued, via, token_id)
    VALUES (@fingerprint, @nodeId, @serial, @notBefore, @notAfter, @issued, @via, @tokenId)`);
  const revokeCertsOf = db.prepare(
    'UPDATE node_certificates SET revoked = ?, revoked_reason = ? WHERE node_id = ? AND revoked IS NULL',
  );
  const supersede = db.prepare(
    'UPDATE node_certificates SET revoked = @now, revoked_reason = @reason WHERE node_id = @nodeId AND revoked IS NULL AND issued < @issued',
  );
  const getEnrollment = db.prepare<[string], { labels_json: string }>(
    'SELECT labels_json FROM node_enrollments WHERE node_id = ?',
  );
  const putEnrollment =
    db.prepare(`INSERT INTO node_enrollments (node_id, token_id, labels_json, enrolled) VALUES (?, ?, ?, ?)
    ON CONFLICT(node_id) DO UPDATE SET token_id = excluded.token_id, labels_json = excluded.labels_json, enrolled = excluded.enrolled`);

  return {
    getToken: (id: string): EnrollmentTokenRecord | undefined => {
      const r = getToken.get(id);
      return r ? toToken(r) : undefined;
    },
    listTokens: (): EnrollmentTokenRecord[] => listTokens.all().map(toToken),
    insertToken(t: {
      id: string;
      salt: Buffer;
      hash: Buffer;
      labels: Record<string, string>;
      nodeId: string;
      created: string;
      createdBy: string;
      expires: string;
    }): void {
      insertToken.run({ ...t, labels: JSON.stringify(t.labels) });
    },
    /** Spends the token; false when it was used, revoked or expired meanwhile. */
    useToken: (id: string, nodeId: string, now: string): boolean => useToken.run({ id, nodeId, now }).changes === 1,
    /** Revokes an unused token; false when there is none to revoke. */
    revokeToken: (id: string, by: string, now: string): boolean => revokeToken.run(now, by, id).changes === 1,
    getCertificate: (fingerprint: string): NodeCertificateRecord | undefined => {
      const r = getCert.get(fingerprint);
      return r ? toCert(r) : undefined;
    },
    certificatesOf: (nodeId: string): NodeCertificateRecord[] => certsOf.all(nodeId).map(toCert),
    /** True once the controller has issued the node a certificate (it is then held to its recorded ones). */
    hasCertificates: (nodeId: string): boolean => countCertsOf.get(nodeId)!.n > 0,
    insertCertificate(c: Omit<NodeCertificateRecord, 'revoked' | 'revokedReason'>): void {
      insertCert.run(c);
    },
    /** Revokes every certificate of the node still valid; returns how many. */
    revokeCertificatesOf: (nodeId: string, reason: string, now: string): number =>
      revokeCertsOf.run(now, reason, nodeId).changes,
    /** Revokes the node's certificates issued before `issued` (replaced by a newer one now in use); returns how many. */
    supersedeOlder: (nodeId: string, issued: string, now: string): number =>
      supersede.run({ nodeId, issued, now, reason: 'superseded' }).changes,
    enrollmentLabels: (nodeId: string): Record<string, string> | undefined => {
      const r = getEnrollment.get(nodeId);
      return r ? (JSON.parse(r.labels_json) as Record<string, string>) : undefined;
    },
    recordEnrollment(nodeId: string, tokenId: string, labels: Record<string, string>, now: string): void {
      putEnrollment.run(nodeId, tokenId, JSON.stringify(labels), now);
    },
  };
}
