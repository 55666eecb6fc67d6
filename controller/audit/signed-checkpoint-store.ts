/**
 * Where signed checkpoints are kept on the controller: the audit_signed_checkpoints table (one row per
 * checkpoint, keyed by tree size: the high-water mark of the log apart from its rows) and one JSON line per
 * checkpoint appended, fsynced, to the checkpoint file outside the database. Both are read back as claims
 * that verify checks against the log; neither is trusted without its signature.
 */
import { closeSync, existsSync, fsyncSync, readFileSync, writeSync } from 'node:fs';
import { openPrivateLogFile } from '../../shared/private-log-file';
import type { SignedCheckpoint } from '../../shared/tlog/signed-checkpoint';
import type { Db } from '../store/database';

/** A signed note as found somewhere, not yet opened. */
export interface StoredNote {
  note: string;
  /** Where it was found, for messages ("audit_signed_checkpoints", "<file> line 7"). */
  source: string;
}

export interface SignedCheckpointStore {
  /** Records a checkpoint in the table (call inside a transaction or alone). */
  insert(c: SignedCheckpoint): void;
  newest(): StoredNote | undefined;
  /** The note of the checkpoint of exactly this size, if one was taken. */
  atSize(size: number): string | undefined;
  all(): StoredNote[];
  count(): number;
}

export function createSignedCheckpointStore(db: Db): SignedCheckpointStore {
  const insert = db.prepare(
    'INSERT OR IGNORE INTO audit_signed_checkpoints (size, root, time, note) VALUES (?, ?, ?, ?)',
  );
  const newest = db.prepare('SELECT note FROM audit_signed_checkpoints ORDER BY size DESC LIMIT 1').pluck();
  const atSize = db.prepare('SELECT note FROM audit_signed_checkpoints WHERE size = ?').pluck();
  const all = db.prepare('SELECT note FROM audit_signed_checkpoints ORDER BY size').pluck();
  const count = db.prepare('SELECT count(*) FROM audit_signed_checkpoints').pluck();
  const row = (note: unknown): StoredNote => ({ note: String(note), source: 'audit_signed_checkpoints' });
  return {
    insert: (c) => void insert.run(c.size, c.root.toString('hex'), c.time, c.note),
    newest() {
      const n = newest.get();
      return n === undefined ? undefined : row(n);
    },
    atSize: (size) => atSize.get(size) as string | undefined,
    all: () => all.all().map(row),
    count: () => count.get() as number,
  };
}

/** Appends one checkpoint line to the file and forces it to disk. */
export function appendCheckpointLine(file: string, line: Record<string, unknown>): void {
  const fd = openPrivateLogFile(file);
  try {
    writeSync(fd, `${JSON.stringify(line)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface CheckpointFileContent {
  /** Lines of unsigned checkpoint records (seq and hash of an "audit.checkpoint" record). */
  records: Array<{ seq: number; hash: string; time: string; source: string }>;
  /** Signed checkpoints (lines with a "note"). */
  notes: StoredNote[];
  exists: boolean;
  /** A line that is not JSON or has neither form. */
  problem?: string;
}

/** Reads the checkpoint file: both line forms; a damaged line is reported, never skipped. */
export function readCheckpointFile(file: string): CheckpointFileContent {
  const out: CheckpointFileContent = { records: [], notes: [], exists: existsSync(file) };
  if (!out.exists) return out;
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const source = `${file} line ${i + 1}`;
    try {
      const c = JSON.parse(line) as { seq?: unknown; hash?: unknown; time?: unknown; note?: unknown };
      if (typeof c.note === 'string') out.notes.push({ note: c.note, source });
      else if (typeof c.seq === 'number' && typeof c.hash === 'string')
        out.records.push({ seq: c.seq, hash: c.hash, time: String(c.time ?? ''), source });
      else throw new Error('neither a checkpoint record nor a signed checkpoint');
    } catch {
      out.problem = `the checkpoint file ${file} is damaged at line ${i + 1}`;
      return out;
    }
  }
  return out;
}
