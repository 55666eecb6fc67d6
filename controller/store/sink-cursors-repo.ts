/** Each audit sink's durable cursor (the last record its receiver confirmed), the checkpoint row a sink ships, and the readiness write probe. */
import type { Db } from './database';

export interface SinkCursor {
  deliveredSeq: number;
  deliveredHash: string;
  updated: string;
}

export interface SinkCursorsRepo {
  get(sink: string): SinkCursor | undefined;
  /** Moves the cursor forward only (a late confirmation of an older batch never moves it back). */
  advance(sink: string, seq: number, hash: string, now: Date): void;
  /** The audit_checkpoints row of the checkpoint record with this seq, if any. */
  checkpointAt(seq: number): { time: string; seq: number; hash: string } | undefined;
  /** Rewrites the one probe row and commits: throws when the data file refuses writes. */
  probeWrite(now: Date): void;
}

export function createSinkCursorsRepo(db: Db): SinkCursorsRepo {
  const getStmt = db.prepare(
    'SELECT delivered_seq AS deliveredSeq, delivered_hash AS deliveredHash, updated FROM audit_sink_cursors WHERE sink = ?',
  );
  const upsert =
    db.prepare(`INSERT INTO audit_sink_cursors (sink, delivered_seq, delivered_hash, updated) VALUES (?, ?, ?, ?)
    ON CONFLICT (sink) DO UPDATE SET delivered_seq = excluded.delivered_seq, delivered_hash = excluded.delivered_hash, updated = excluded.updated
    WHERE excluded.delivered_seq > audit_sink_cursors.delivered_seq`);
  const checkpoint = db.prepare(
    'SELECT time, head_seq AS seq, head_hash AS hash FROM audit_checkpoints WHERE head_seq = ? ORDER BY id DESC LIMIT 1',
  );
  const probe = db.prepare(
    'INSERT INTO write_probe (id, time) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET time = excluded.time',
  );
  return {
    get: (sink) => getStmt.get(sink) as SinkCursor | undefined,
    advance(sink, seq, hash, now) {
      upsert.run(sink, seq, hash, now.toISOString());
    },
    checkpointAt: (seq) => checkpoint.get(seq) as { time: string; seq: number; hash: string } | undefined,
    probeWrite(now) {
      db.transaction(() => probe.run(now.toISOString())).immediate();
    },
  };
}
