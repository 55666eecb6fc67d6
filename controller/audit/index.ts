/** The tamper-evident audit log: append, query, verify and checkpoint. */
export {
  createAuditLog,
  recordAudited,
  type AuditLog,
  type AuditRecord,
  type AuditEntry,
  type AuditFilter,
  type AuditQuery,
  type AuditPage,
} from './audit-log';
export {
  verifyAudit,
  verifyRecords,
  walkChain,
  type VerifyResult,
  type VerifyOptions,
  type ChainRecord,
  type ChainWalk,
} from './verify';
export { writeCheckpoint, type Checkpoint } from './checkpoint';
export { AUDIT_FORMAT, GENESIS_HASH, canonicalJson, hashAuditRecord } from './canonical';
export { onAuditWriteFailure } from './write-failures';
