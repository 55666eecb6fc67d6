/**
 * The event every sink ships for one audit record: the record exactly as hashed (so a receiver can
 * re-walk the chain with the canonical encoding of controller/audit/canonical.ts), its parsed details
 * for searching, and the checkpoint the record anchors when it is an "audit.checkpoint" record.
 */
import { AUDIT_FORMAT, type AuditRecord } from '../../audit';

/**
 * The checkpoint shipped with an "audit.checkpoint" record. The default comes from audit_checkpoints;
 * the signed-checkpoint work (controller/audit) passes its own lookup to add the signature and key id.
 */
export type CheckpointLookup = (record: AuditRecord) => Record<string, unknown> | undefined;

export interface AuditEvent {
  format: typeof AUDIT_FORMAT;
  /** The controller that wrote the record (its machine name unless configured). */
  source: string;
  seq: number;
  time: string;
  hash: string;
  prevHash: string;
  actor: string;
  action: string;
  nodeId: string;
  account: string;
  operationId: string;
  requestId: string;
  outcome: string;
  reason: string;
  /** The canonical JSON the hash covers... */
  detailsJson: string;
  /** ...and the same, parsed. */
  details: unknown;
  checkpoint?: Record<string, unknown>;
}

export function toAuditEvent(record: AuditRecord, source: string, checkpoint?: CheckpointLookup): AuditEvent {
  let details: unknown;
  try {
    details = JSON.parse(record.detailsJson);
  } catch {
    details = {};
  }
  const event: AuditEvent = {
    format: AUDIT_FORMAT, source, seq: record.seq, time: record.time, hash: record.hash, prevHash: record.prevHash,
    actor: record.actor, action: record.action, nodeId: record.nodeId, account: record.account, operationId: record.operationId,
    requestId: record.requestId, outcome: record.outcome, reason: record.reason, detailsJson: record.detailsJson, details,
  };
  const cp = record.action === 'audit.checkpoint' ? checkpoint?.(record) : undefined;
  if (cp) event.checkpoint = cp;
  return event;
}
