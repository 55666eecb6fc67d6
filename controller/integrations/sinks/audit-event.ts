/**
 * The event every sink ships for one audit record: the record exactly as hashed (so a receiver can
 * re-walk the chain with the canonical encoding of controller/audit/canonical.ts), its parsed details
 * for searching, and the checkpoint the record anchors, when there is one.
 */
import { AUDIT_FORMAT, type AuditRecord } from '../../audit';

/**
 * The checkpoint shipped with a record, asked for every record (undefined: none). The default gives an
 * "audit.checkpoint" record its audit_checkpoints row; the signed-checkpoint work (controller/audit)
 * passes its own lookup to ship the signed checkpoint (signature, key id, tree size) with the record it
 * anchors, wherever that checkpoint lives.
 */
export type CheckpointLookup = (record: AuditRecord) => Record<string, unknown> | undefined;

/** The record as stored and hashed (seq, time, actor, ..., detailsJson, prevHash, hash), plus: */
export interface AuditEvent extends AuditRecord {
  format: typeof AUDIT_FORMAT;
  /** The machine name of the controller that wrote the record. */
  source: string;
  /** detailsJson, parsed, for searching. */
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
  const event: AuditEvent = { format: AUDIT_FORMAT, source, ...record, details };
  const cp = checkpoint?.(record);
  if (cp) event.checkpoint = cp;
  return event;
}
