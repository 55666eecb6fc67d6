/** Job: write an audit checkpoint (the chain head into the log, the table and the checkpoint file). */
import type { Logger } from '../../shared/logger';
import { writeCheckpoint, type AuditLog, type Checkpoint } from '../audit';
import type { Db } from '../store';

export interface CheckpointDeps {
  db: Db;
  audit: AuditLog;
  file: string;
  log: Logger;
}

export function checkpointAudit(deps: CheckpointDeps): Checkpoint {
  const cp = writeCheckpoint(deps.db, deps.audit, deps.file);
  deps.log.info({ seq: cp.seq, hash: cp.hash }, 'audit checkpoint written');
  return cp;
}
