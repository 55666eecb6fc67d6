/**
 * The canonical encoding of audit records, the one thing the hash chain depends on. Changing it breaks
 * every existing chain, so it is versioned by the leading tag.
 *
 * Encoding (format "fleetpass-audit-v1"): the UTF-8 bytes of
 *   JSON.stringify(["fleetpass-audit-v1", seq, time, actor, action, node_id, account, operation_id,
 *                   request_id, outcome, reason, details_json, prev_hash])
 * where seq is a JSON number, every other field a JSON string ("" when empty), time is ISO-8601 UTC with
 * milliseconds, and details_json is itself canonical JSON (see canonicalJson). hash = lowercase hex
 * SHA-256 of those bytes. The first record's prev_hash is GENESIS_HASH (64 zeros); every later record's
 * prev_hash is the hash of the record with seq - 1.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../shared/canonical-json';

// Part of the v1 encoding; it lives in shared/ because the account history stores state the same way.
export { canonicalJson };

export const AUDIT_FORMAT = 'fleetpass-audit-v1';
export const GENESIS_HASH = '0'.repeat(64);

/** The hashed fields of a record, in storage form. */
export interface AuditFields {
  seq: number;
  time: string;
  actor: string;
  action: string;
  nodeId: string;
  account: string;
  operationId: string;
  requestId: string;
  outcome: string;
  reason: string;
  detailsJson: string;
  prevHash: string;
}

/** The hash of one record over its canonical encoding (positional arguments keep verify fast). */
export function hashAuditFields(
  seq: number,
  time: string,
  actor: string,
  action: string,
  nodeId: string,
  account: string,
  operationId: string,
  requestId: string,
  outcome: string,
  reason: string,
  detailsJson: string,
  prevHash: string,
): string {
  const encoded = JSON.stringify([
    AUDIT_FORMAT,
    seq,
    time,
    actor,
    action,
    nodeId,
    account,
    operationId,
    requestId,
    outcome,
    reason,
    detailsJson,
    prevHash,
  ]);
  return createHash('sha256').update(encoded, 'utf8').digest('hex');
}

/** The hash of a record given as an object. */
export function hashAuditRecord(f: AuditFields): string {
  return hashAuditFields(
    f.seq,
    f.time,
    f.actor,
    f.action,
    f.nodeId,
    f.account,
    f.operationId,
    f.requestId,
    f.outcome,
    f.reason,
    f.detailsJson,
    f.prevHash,
  );
}
