/**
 * Benchmark 2: audit append throughput and verify speed, on the real disk.
 * fleetpass: controller/audit createAuditLog over a data file opened by the product (WAL,
 * synchronous=FULL, secure_delete), each append inside recordAudited (BEGIN IMMEDIATE ... COMMIT).
 * Baseline: raw better-sqlite3 inserts of the same row into a table made from the same DDL (the
 * audit_log table, its triggers and indexes copied from the product file), same pragmas, same
 * transaction shape: one row per transaction ("single"), or `batchSize` rows per transaction
 * ("batched"). Then `audit verify` over a chain of `verifyRecords` records, against a raw scan of the
 * same rows that only hashes each one (the least any verification must do).
 */
import { createHash, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { systemClock } from '../../shared/clock';
import { createAuditLog, recordAudited, verifyAudit, type AuditEntry } from '../../controller/audit';
import { openDatabase, type Db } from '../../controller/store';
import { diskScratch } from '../lib/paths';
import type { BenchResult } from '../lib/report';
import { msSince } from '../lib/stats';

export interface AuditOptions {
  single: number;
  batched: number;
  batchSize: number;
  verifyRecords: number;
}

/** A typical record: an agent's successful unlock result. */
function entry(i: number): AuditEntry {
  return {
    actor: `node:bench-${String(i % 1000).padStart(5, '0')}`,
    action: 'operation.succeeded',
    nodeId: `bench-${String(i % 1000).padStart(5, '0')}`,
    account: 'ilmnuser',
    operationId: randomUUID(),
    requestId: randomUUID(),
    outcome: 'succeeded',
    reason: '',
    details: { outcome: 'OPERATION_OUTCOME_SUCCEEDED', lockedAfter: false },
  };
}

/** The same pragmas openDatabase sets on a writable file. */
function rawOpen(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('secure_delete = ON');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** The audit_log DDL (table, indexes, triggers) exactly as the product's migrations made it. */
function auditDdl(product: Db): string[] {
  const rows = product
    .prepare(
      "SELECT type, sql FROM sqlite_master WHERE tbl_name = 'audit_log' AND sql IS NOT NULL ORDER BY type = 'table' DESC",
    )
    .all() as { sql: string }[];
  return rows.map((r) => r.sql);
}

interface RowValues {
  seq: number;
  values: unknown[];
}

/** A row in storage form with the shape an append writes (64-hex hashes, ISO time, canonical JSON). */
function rawRow(seq: number): RowValues {
  const e = entry(seq);
  const hash = createHash('sha256').update(String(seq)).digest('hex');
  return {
    seq,
    values: [
      seq,
      new Date().toISOString(),
      e.actor,
      e.action,
      e.nodeId,
      e.account,
      e.operationId,
      e.requestId,
      e.outcome,
      e.reason,
      JSON.stringify(e.details),
      hash,
      hash,
    ],
  };
}

function opsPerSecond(n: number, ms: number): number {
  return n / (ms / 1000);
}

/** Runs the audit benchmarks; resolves with the figures. */
export async function auditBenchmark(o: AuditOptions): Promise<BenchResult> {
  const started = Date.now();
  const dir = diskScratch('audit');
  try {
    const product = openDatabase(join(dir, 'product.db'));
    const audit = createAuditLog(product, systemClock);
    const raw = rawOpen(join(dir, 'raw.db'));
    for (const sql of auditDdl(product)) raw.exec(sql);
    const insert = raw.prepare(
      'INSERT INTO audit_log (seq, time, actor, action, node_id, account, operation_id, request_id, outcome, reason, details_json, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    let rawSeq = 0;

    // Warm both up (statement caches, file growth) outside the timings.
    for (let i = 0; i < 200; i++) recordAudited(product, () => audit.append(entry(i)));
    for (let i = 0; i < 200; i++) raw.transaction(() => insert.run(...rawRow(++rawSeq).values)).immediate();

    // Product and raw alternate in slices, so drift in the disk (WAL checkpoints, other load) hits both alike.
    // Single: one record per transaction, each commit synced.
    const slice = 100;
    let productSingleMs = 0;
    let rawSingleMs = 0;
    for (let done = 0; done < o.single; done += slice) {
      const n = Math.min(slice, o.single - done);
      const es = Array.from({ length: n }, (_, i) => entry(done + i));
      const rows = Array.from({ length: n }, () => rawRow(++rawSeq));
      let t0 = process.hrtime.bigint();
      for (const e of es) recordAudited(product, () => audit.append(e));
      productSingleMs += msSince(t0);
      t0 = process.hrtime.bigint();
      for (const r of rows) raw.transaction(() => insert.run(...r.values)).immediate();
      rawSingleMs += msSince(t0);
    }

    // Batched: batchSize records per transaction.
    const batches = Math.ceil(o.batched / o.batchSize);
    let productBatchedMs = 0;
    let rawBatchedMs = 0;
    for (let b = 0; b < batches; b++) {
      const es = Array.from({ length: o.batchSize }, (_, i) => entry(b * o.batchSize + i));
      const rows = Array.from({ length: o.batchSize }, () => rawRow(++rawSeq));
      let t0 = process.hrtime.bigint();
      recordAudited(product, () => {
        for (const e of es) audit.append(e);
      });
      productBatchedMs += msSince(t0);
      t0 = process.hrtime.bigint();
      raw
        .transaction(() => {
          for (const r of rows) insert.run(...r.values);
        })
        .immediate();
      rawBatchedMs += msSince(t0);
    }
    product.close();
    raw.close();

    // Verify over a long chain, built with the product's append in large transactions.
    const chainFile = join(dir, 'chain.db');
    const chain = openDatabase(chainFile);
    const chainAudit = createAuditLog(chain, systemClock);
    let t0 = process.hrtime.bigint();
    const bulk = 10_000;
    for (let done = 0; done < o.verifyRecords; done += bulk) {
      const n = Math.min(bulk, o.verifyRecords - done);
      recordAudited(chain, () => {
        for (let i = 0; i < n; i++) chainAudit.append(entry(done + i));
      });
    }
    const buildMs = msSince(t0);
    t0 = process.hrtime.bigint();
    const verified = verifyAudit(chain);
    const verifyMs = msSince(t0);
    if (!verified.ok || verified.total !== o.verifyRecords)
      throw new Error(`verify failed: ${JSON.stringify(verified)}`);
    // Baseline: read the same rows in order and hash each one's fields, checking nothing.
    t0 = process.hrtime.bigint();
    let sink = 0;
    for (const r of chain
      .prepare(
        'SELECT seq, time, actor, action, node_id, account, operation_id, request_id, outcome, reason, details_json, prev_hash, hash FROM audit_log ORDER BY seq',
      )
      .raw(true)
      .iterate() as IterableIterator<unknown[]>) {
      sink ^= createHash('sha256')
        .update(JSON.stringify(r.slice(0, 12)), 'utf8')
        .digest()[0];
    }
    const scanMs = msSince(t0);
    chain.close();

    const singleP = opsPerSecond(o.single, productSingleMs);
    const singleR = opsPerSecond(o.single, rawSingleMs);
    const batchP = opsPerSecond(batches * o.batchSize, productBatchedMs);
    const batchR = opsPerSecond(batches * o.batchSize, rawBatchedMs);
    const verifyRate = opsPerSecond(o.verifyRecords, verifyMs);
    const scanRate = opsPerSecond(o.verifyRecords, scanMs);
    return {
      name: 'audit',
      title: 'Audit append (WAL, synchronous=FULL)',
      size: `${o.single.toLocaleString('en-US')} single, ${(batches * o.batchSize).toLocaleString('en-US')} batched (${o.batchSize}/transaction), verify over ${o.verifyRecords.toLocaleString('en-US')}`,
      seconds: (Date.now() - started) / 1000,
      figures: [
        {
          metric: 'single append (1 record per transaction)',
          value: singleP,
          unit: 'records/s',
          baseline: { label: 'raw better-sqlite3 insert', value: singleR },
          ratio: singleP / singleR,
          goal: '≥ 0.5x of raw',
          met: singleP / singleR >= 0.5,
        },
        {
          metric: `batched append (${o.batchSize} per transaction)`,
          value: batchP,
          unit: 'records/s',
          baseline: { label: 'raw better-sqlite3 insert', value: batchR },
          ratio: batchP / batchR,
          goal: '≥ 0.5x of raw',
          met: batchP / batchR >= 0.5,
        },
        {
          metric: `audit verify over ${o.verifyRecords.toLocaleString('en-US')} records`,
          value: verifyMs / 1000,
          unit: 's',
          baseline: { label: 'raw scan hashing each row', value: scanMs / 1000 },
          ratio: verifyMs / scanMs,
          note: `${Math.round(verifyRate).toLocaleString('en-US')} records/s`,
        },
      ],
      checks: {
        verified: { ok: verified.ok, total: verified.total },
        chainBuildRecordsPerSecond: opsPerSecond(o.verifyRecords, buildMs),
        rawScanRecordsPerSecond: scanRate,
        sink,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
