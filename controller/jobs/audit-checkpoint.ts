/**
 * Job: write an audit checkpoint (the chain head into the log, the table and the checkpoint file), carrying
 * the newest signed checkpoint so every sink receives one at least this often.
 */
import type { Logger } from '../../shared/logger';
import { writeCheckpoint, type AuditLog, type Checkpoint } from '../audit';
import type { AuditTrail } from '../audit/audit-trail';
import type { Db } from '../store';

export interface CheckpointDeps {
  db: Db;
  audit: AuditLog;
  trail: AuditTrail;
  file: string;
  log: Logger;
}

export function checkpointAudit(deps: CheckpointDeps): Checkpoint {
  const signed = deps.trail.checkpointNow();
  const cp = writeCheckpoint(deps.db, deps.audit, deps.file, undefined, signed?.note);
  deps.log.info({ seq: cp.seq, hash: cp.hash }, 'audit checkpoint written');
  return cp;
}
