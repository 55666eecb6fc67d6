/**
 * Walks the audit chain from the first record and reports the first broken or missing one: a gap in
 * seq (deleted or reordered rows), a prev_hash that does not link to the previous record, content that
 * does not match its hash (edited rows), or a record that differs from a checkpoint. Checkpoints from
 * the table and from the external checkpoint file also catch a truncated tail. Signed checkpoints (from
 * audit_signed_checkpoints, the checkpoint file and the fleet's witnesses) are opened with the log's
 * public key and checked against the Merkle tree head the walk builds as it goes: a log smaller than a
 * checkpoint, or with a different head at its size, does not verify, even when every record still matches
 * its own hash (a re-hashed log). Streams rows, so a million records take seconds and constant memory.
 * The same walk (walkChain) verifies exported files.
 */
import { MerkleFrontier } from '../../shared/tlog/merkle';
import { openCheckpoint, type CheckpointVerifier } from '../../shared/tlog/signed-checkpoint';
import type { Db } from '../store/database';
import { readCheckpointFile, type StoredNote } from './signed-checkpoint-store';
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
  /** The log's public key: signed checkpoints are checked only with it. */
  verifier?: CheckpointVerifier;
  /** Signed checkpoints reported by witnesses (agents), with who reported them. */
  witnessed?: StoredNote[];
  /** Receives every leaf the walk verifies (the controller keeps the tree it built). */
  tree?: MerkleFrontier;
}

/** A signed checkpoint's statement about the log, once its signature verified. */
export interface SignedClaim {
  root: Buffer;
  time: string;
  source: string;
}

export interface Claim {
  hash: string;
  time: string;
  source: string;
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
  options: {
    claims?: ReadonlyMap<number, Claim>;
    signed?: ReadonlyMap<number, SignedClaim[]>;
    tree?: MerkleFrontier;
  } = {},
): ChainWalk {
  const signed = options.signed?.size ? options.signed : undefined;
  const tree = options.tree ?? (signed ? new MerkleFrontier() : undefined);
  let agreed = 0;
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
    if (tree) {
      tree.append(Buffer.from(hash, 'hex'));
      const at = signed?.get(seq);
      if (at) {
        const root = tree.root();
        const differs = at.find((c) => !c.root.equals(root));
        if (differs)
          return broken(
            agreed + 1,
            `records ${agreed + 1} to ${seq} differ from the signed checkpoint of ${seq} records taken at ${differs.time} (${differs.source}): the log was rewritten from record ${agreed + 1} at the latest (each record may still match its own hash)`,
          );
        agreed = seq;
      }
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

/** Opens every signed note with the log's key into claims by size; the first one that does not open is a problem. */
function signedClaims(
  notes: StoredNote[],
  verifier: CheckpointVerifier,
): { claims: Map<number, SignedClaim[]>; furthest?: [number, SignedClaim]; problem?: string } {
  const claims = new Map<number, SignedClaim[]>();
  let furthest: [number, SignedClaim] | undefined;
  for (const n of notes) {
    const o = openCheckpoint(n.note, verifier);
    if (!o.ok) return { claims, problem: `the signed checkpoint in ${n.source} is not valid: ${o.problem}` };
    const c = { root: o.checkpoint.root, time: o.checkpoint.time, source: n.source };
    if (o.checkpoint.size === 0) continue;
    const at = claims.get(o.checkpoint.size);
    if (at) at.push(c);
    else claims.set(o.checkpoint.size, [c]);
    if (!furthest || o.checkpoint.size > furthest[0]) furthest = [o.checkpoint.size, c];
  }
  return { claims, furthest };
}

function tableExists(db: Db, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** Verifies the whole chain against itself and every known checkpoint, signed or not. */
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
  const notes: StoredNote[] = [];
  const tableNotes = tableExists(db, 'audit_signed_checkpoints')
    ? (db.prepare('SELECT note FROM audit_signed_checkpoints ORDER BY size').pluck().all() as string[])
    : [];
  for (const note of tableNotes) notes.push({ note, source: 'audit_signed_checkpoints' });
  if (options.checkpointFile) {
    const read = readCheckpointFile(options.checkpointFile);
    for (const c of read.records) addClaim(c.seq, c);
    notes.push(...read.notes);
    fileProblem = read.problem;
    if (!read.exists && tableNotes.length > 0)
      fileProblem = `the checkpoint file ${options.checkpointFile} is missing, but the database holds ${tableNotes.length} signed checkpoint(s): it was deleted`;
  }
  notes.push(...(options.witnessed ?? []));
  const fail = (r: Omit<VerifyResult, 'ok' | 'total' | 'checkpoints'>): VerifyResult => ({
    ok: false,
    total,
    checkpoints: claims.size + (options.verifier ? notes.length : 0),
    ...r,
  });
  const opened: ReturnType<typeof signedClaims> = options.verifier
    ? signedClaims(notes, options.verifier)
    : { claims: new Map() };
  if (opened.problem) return fail({ verifiedThrough: 0, brokenAt: 0, headHash: '', problem: opened.problem });

  const rows = db
    .prepare(`SELECT ${AUDIT_COLUMNS} FROM audit_log ORDER BY seq`)
    .raw(true)
    .iterate() as IterableIterator<AuditRow>;
  const walk = walkChain(mapRows(rows), { claims, signed: opened.claims, tree: options.tree });
  if (!walk.ok)
    return fail({
      verifiedThrough: walk.verifiedThrough,
      brokenAt: walk.brokenAt,
      problem: walk.problem,
      headHash: walk.headHash,
    });
  const last = walk.verifiedThrough;
  const prev = walk.headHash;
  let furthest: [number, Claim] | undefined;
  for (const entry of claims) if (!furthest || entry[0] > furthest[0]) furthest = entry;
  const signedFurthest = opened.furthest;
  if (signedFurthest && signedFurthest[0] > last && (!furthest || signedFurthest[0] >= furthest[0]))
    return fail({
      verifiedThrough: last,
      brokenAt: last + 1,
      headHash: prev,
      problem: `records ${last + 1} to ${signedFurthest[0]} are missing: the signed checkpoint taken at ${signedFurthest[1].time} (${signedFurthest[1].source}) covered ${signedFurthest[0]} records; the log was truncated or restored from an older copy`,
    });
  if (furthest && furthest[0] > last) {
    return fail({
      verifiedThrough: last,
      brokenAt: last + 1,
      headHash: prev,
      problem: `records ${last + 1} to ${furthest[0]} are missing: the checkpoint taken at ${furthest[1].time} (${furthest[1].source}) recorded the log up to record ${furthest[0]}; the tail was truncated`,
    });
  }
  if (fileProblem) return fail({ verifiedThrough: last, brokenAt: 0, problem: fileProblem, headHash: prev });
  return {
    ok: true,
    total,
    verifiedThrough: last,
    brokenAt: 0,
    problem: '',
    headHash: prev,
    checkpoints: claims.size + (options.verifier ? notes.length : 0),
  };
}
