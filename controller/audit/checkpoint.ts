/**
 * Audit checkpoints: the chain head is recorded in the log itself (an "audit.checkpoint" record naming
 * the previous head), in the audit_checkpoints table, and as one JSON line appended to a file outside the
 * database. Deleting the tail of the log then no longer goes unnoticed: verify finds the checkpoint's
 * record missing. The file is fsynced so a checkpoint survives a crash with the database.
 */
import { closeSync, fsyncSync, writeSync } from 'node:fs';
import { openPrivateLogFile } from '../../shared/private-log-file';
import type { Db } from '../store/database';
import { recordAudited, type AuditLog } from './audit-log';

export interface Checkpoint {
  /** The checkpoint record's own seq and hash: the head the file anchors. */
  seq: number;
  hash: string;
  time: string;
}

/** Appends one line to the checkpoint file and forces it to disk. */
function appendLineDurably(file: string, line: string): void {
  const fd = openPrivateLogFile(file);
  try {
    writeSync(fd, line);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes a checkpoint into the log, the table and the file; returns the anchored head. */
export function writeCheckpoint(
  db: Db,
  audit: AuditLog,
  file: string,
  actor = 'controller',
  /** The newest signed checkpoint, kept in the record so it reaches every sink. */
  signedNote?: string,
): Checkpoint {
  const insert = db.prepare('INSERT INTO audit_checkpoints (time, head_seq, head_hash) VALUES (?, ?, ?)');
  const cp = recordAudited(db, () => {
    const head = audit.head();
    const rec = audit.append({
      actor,
      action: 'audit.checkpoint',
      outcome: 'ok',
      details: signedNote
        ? { headSeq: head.seq, headHash: head.hash, signedCheckpoint: signedNote }
        : { headSeq: head.seq, headHash: head.hash },
    });
    insert.run(rec.time, rec.seq, rec.hash);
    return { seq: rec.seq, hash: rec.hash, time: rec.time };
  });
  appendLineDurably(file, `${JSON.stringify({ time: cp.time, seq: cp.seq, hash: cp.hash })}\n`);
  return cp;
}
