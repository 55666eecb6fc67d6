/**
 * Walks the audit chain from the first record and reports the first broken or missing one: a gap in
 * seq (deleted or reordered rows), a prev_hash that does not link to the previous record, content that
 * does not match its hash (edited rows), or a record that differs from a checkpoint. Checkpoints from
 * the table and from the external checkpoint file also catch a truncated tail. Streams rows, so a
 * million records take seconds and constant memory. The same walk (walkChain) verifies exported files.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Db } from '../store/database';
import { AUDIT_COLUMNS, rowToRecord, type AuditRecord, type AuditRow } from './audit-log';
import { GENESIS_HASH, hashAuditFields } from './canonical';

export interface VerifyResult {
  ok: boolean;
  /** Records present in the log. */
  total: number;
  /** Every record up to and including this seq verified. */
  verifiedThrough: number;
  /** The first broken or missing record (0 when ok). */
  brokenAt: number;
  /** A sentence for the operator (empty when ok). */
  problem: string;
  /** Hash of the last verified record. */
  headHash: string;
  /** Checkpoints that were checked (from the table and the file). */
  checkpoints: number;
}

export interface VerifyOptions {
  /** The external checkpoint file (one JSON line per checkpoint); missing file = no external checkpoints. */
  checkpointFile?: string;
}

export interface Claim {
  hash: string;
  time: string;
  source: string;
}

/** Checkpoint lines that could not be parsed are reported as a problem rather than ignored. */
function readCheckpointFile(file: string): { claims: Array<[number, Claim]>; problem?: string } {
  if (!existsSync(file)) return { claims: [] };
  const claims: Array<[number, Claim]> = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    try {
      const c = JSON.parse(line) as { seq?: unknown; hash?: unknown; time?: unknown };
      if (typeof c.seq !== 'number' || typeof c.hash !== 'string') throw new Error('missing seq or hash');
      claims.push([c.seq, { hash: c.hash, time: String(c.time ?? ''), source: `${file} line ${i + 1}` }]);
    } catch {
      return { claims, problem: `the checkpoint file ${file} is damaged at line ${i + 1}` };
    }
  }
  return { claims };
}

function* mapRows(rows: Iterable<AuditRow>): IterableIterator<ChainRecord> {
  for (const r of rows) yield rowToRecord(r);
}

/** One record as stored or exported: the hashed fields plus the hash. */
export type ChainRecord = AuditRecord;

export interface ChainWalk {
  ok: boolean;
  /** Every record up to and including this seq verified (the last record's seq when ok). */
  verifiedThrough: number;
  /** The first broken or missing record (0 when ok). */
  brokenAt: number;
  problem: string;
  /** Hash of the last verified record. */
  headHash: string;
  /** Records walked. */
  count: number;
}

/**
 * The chain walk itself, over records in seq order from seq 1: used for the database (verifyAudit) and
 * for exported files (verifyRecords), so both are judged by the same rules.
 */
export function walkChain(
  records: Iterable<ChainRecord>,
  options: { claims?: ReadonlyMap<number, Claim> } = {},
): ChainWalk {
  let expected = 1;
  let prev = GENESIS_HASH;
  let count = 0;
  const broken = (at: number, problem: string): ChainWalk => ({
    ok: false,
    verifiedThrough: at - 1,
    brokenAt: at,
    problem,
    headHash: prev,
    count,
  });
  for (const r of records) {
    count++;
    const seq = r.seq;
    if (seq !== expected) {
      return broken(
        expected,
        seq > expected
          ? `record ${expected} is missing (the next record present is ${seq}); records were deleted or reordered`
          : `record ${seq} appears out of order`,
      );
    }
    if (r.prevHash !== prev) {
      return broken(
        seq,
        `record ${seq} does not link to record ${seq - 1} (prev_hash differs): one of them was rewritten or records were reordered`,
      );
    }
    const hash = hashAuditFields(
      seq,
      r.time,
      r.actor,
      r.action,
      r.nodeId,
      r.account,
      r.operationId,
      r.requestId,
      r.outcome,
      r.reason,
      r.detailsJson,
      r.prevHash,
    );
    if (hash !== r.hash) {
      return broken(seq, `record ${seq} was altered: its content does not match its hash`);
    }
    const claim = options.claims?.get(seq);
    if (claim && claim.hash !== hash) {
      return broken(
        seq,
        `record ${seq} differs from the checkpoint taken at ${claim.time} (${claim.source}): the log up to here was rewritten`,
      );
    }
    prev = hash;
    expected++;
  }
  return { ok: true, verifiedThrough: expected - 1, brokenAt: 0, problem: '', headHash: prev, count };
}

/** Verifies exported records (a whole export, from record 1) with the same walk as the database. */
export function verifyRecords(records: Iterable<ChainRecord>): VerifyResult {
  const walk = walkChain(records);
  return {
    ok: walk.ok,
    total: walk.count,
    verifiedThrough: walk.verifiedThrough,
    brokenAt: walk.brokenAt,
    problem: walk.problem,
    headHash: walk.headHash,
    checkpoints: 0,
  };
}

/** Verifies the whole chain against itself and every known checkpoint. */
export function verifyAudit(db: Db, options: VerifyOptions = {}): VerifyResult {
  const total = db.prepare('SELECT count(*) FROM audit_log').pluck().get() as number;
  const claims = new Map<number, Claim>();
  const addClaim = (seq: number, c: Claim) => {
    // Keep the file's claim when both sources name a seq: the file is the anchor outside the database.
    if (!claims.has(seq) || c.source !== 'audit_checkpoints') claims.set(seq, c);
  };
  for (const [seq, hash, time] of db
    .prepare('SELECT head_seq, head_hash, time FROM audit_checkpoints ORDER BY id')
    .raw(true)
    .iterate() as IterableIterator<[number, string, string]>) {
    addClaim(seq, { hash, time, source: 'audit_checkpoints' });
  }
  let fileProblem: string | undefined;
  if (options.checkpointFile) {
    const read = readCheckpointFile(options.checkpointFile);
    for (const [seq, c] of read.claims) addClaim(seq, c);
    fileProblem = read.problem;
  }

  const rows = db
    .prepare(`SELECT ${AUDIT_COLUMNS} FROM audit_log ORDER BY seq`)
    .raw(true)
    .iterate() as IterableIterator<AuditRow>;
  const walk = walkChain(mapRows(rows), { claims });
  if (!walk.ok)
    return {
      ok: false,
      total,
      verifiedThrough: walk.verifiedThrough,
      brokenAt: walk.brokenAt,
      problem: walk.problem,
      headHash: walk.headHash,
      checkpoints: claims.size,
    };
  const last = walk.verifiedThrough;
  const prev = walk.headHash;
  let furthest: [number, Claim] | undefined;
  for (const entry of claims) if (!furthest || entry[0] > furthest[0]) furthest = entry;
  if (furthest && furthest[0] > last) {
    return {
      ok: false,
      total,
      verifiedThrough: last,
      brokenAt: last + 1,
      headHash: prev,
      checkpoints: claims.size,
      problem: `records ${last + 1} to ${furthest[0]} are missing: the checkpoint taken at ${furthest[1].time} (${furthest[1].source}) recorded the log up to record ${furthest[0]}; the tail was truncated`,
    };
  }
  if (fileProblem)
    return {
      ok: false,
      total,
      verifiedThrough: last,
      brokenAt: 0,
      problem: fileProblem,
      headHash: prev,
      checkpoints: claims.size,
    };
  return { ok: true, total, verifiedThrough: last, brokenAt: 0, problem: '', headHash: prev, checkpoints: claims.size };
}
