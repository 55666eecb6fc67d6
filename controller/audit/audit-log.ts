/**
 * The append-only, hash-chained audit log: who did what, to which node and account, with what outcome.
 * `append` is meant to run inside the same transaction as the state change it records, so both commit
 * or neither does; `recordAudited` wraps such a transaction and turns any write failure into
 * FP_AUDIT_WRITE_FAILED (fail closed: the caller must not act on a change whose record was not kept).
 * Details never carry a secret: secret-named fields are replaced before hashing.
 */
import type { Statement } from 'better-sqlite3';
import { FleetpassError, isDataFileFailure, isFleetpassError } from '../../shared/errors';
import type { Clock } from '../../shared/clock';
import { redactSecrets } from '../../shared/logger';
import type { Db } from '../store/database';
import { GENESIS_HASH, canonicalJson, hashAuditFields, type AuditFields } from './canonical';
import { reportAuditWriteFailure } from './write-failures';

/** One stored audit record: the hashed fields and the hash over them. */
export interface AuditRecord extends AuditFields {
  hash: string;
}

/** What a caller records; empty fields default to "". */
export interface AuditEntry {
  actor: string;
  action: string;
  nodeId?: string;
  account?: string;
  operationId?: string;
  requestId?: string;
  outcome?: string;
  reason?: string;
  /** Extra non-secret facts; stored as canonical JSON. */
  details?: Record<string, unknown>;
}

export interface AuditFilter {
  nodeId?: string;
  account?: string;
  actor?: string;
  /** Exact action, or a prefix ending in "*" (e.g. "operation.*"). */
  action?: string;
  outcome?: string;
  requestId?: string;
  operationId?: string;
  since?: Date;
  until?: Date;
}

export interface AuditQuery {
  filter?: AuditFilter;
  /** Default 100, at most 1000. */
  limit?: number;
  afterSeq?: number;
  beforeSeq?: number;
  descending?: boolean;
}

export interface AuditPage {
  records: AuditRecord[];
  /** Pass as afterSeq (beforeSeq when descending) for the next page; 0 when there is none. */
  nextCursor: number;
}

/** The audit_log columns in the order rowToRecord reads a raw row. */
export const AUDIT_COLUMNS =
  'seq, time, actor, action, node_id, account, operation_id, request_id, outcome, reason, details_json, prev_hash, hash';

export type AuditRow = [
  number,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
];

/** A raw row selected as AUDIT_COLUMNS, as a record. */
export function rowToRecord(r: AuditRow): AuditRecord {
  return {
    seq: r[0],
    time: r[1],
    actor: r[2],
    action: r[3],
    nodeId: r[4],
    account: r[5],
    operationId: r[6],
    requestId: r[7],
    outcome: r[8],
    reason: r[9],
    detailsJson: r[10],
    prevHash: r[11],
    hash: r[12],
  };
}

export interface AuditLog {
  /** Appends one record; call inside a transaction that also makes the recorded change. */
  append(entry: AuditEntry): AuditRecord;
  /** The last record's seq and hash (seq 0 and GENESIS_HASH for an empty log). */
  head(): { seq: number; hash: string };
  query(q?: AuditQuery): AuditPage;
  /** Streams matching records oldest first without loading them all (for exports). */
  iterate(filter?: AuditFilter): IterableIterator<AuditRecord>;
  count(): number;
}

/** The audit log over the store's data file. */
export function createAuditLog(db: Db, clock: Clock): AuditLog {
  const headStmt = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').raw(true);
  const insertStmt = db.prepare(
    `INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const countStmt = db.prepare('SELECT count(*) FROM audit_log').pluck();
  const queryCache = new Map<string, Statement>();

  function head(): { seq: number; hash: string } {
    const row = headStmt.get() as [number, string] | undefined;
    return row ? { seq: row[0], hash: row[1] } : { seq: 0, hash: GENESIS_HASH };
  }

  function append(entry: AuditEntry): AuditRecord {
    try {
      const prev = head();
      const seq = prev.seq + 1;
      const time = clock.now().toISOString();
      const detailsJson = canonicalJson(redactSecrets(entry.details ?? {}));
      const f = [
        entry.actor,
        entry.action,
        entry.nodeId ?? '',
        entry.account ?? '',
        entry.operationId ?? '',
        entry.requestId ?? '',
        entry.outcome ?? '',
        entry.reason ?? '',
        detailsJson,
      ] as const;
      const hash = hashAuditFields(seq, time, ...f, prev.hash);
      insertStmt.run(seq, time, ...f, prev.hash, hash);
      return rowToRecord([seq, time, ...f, prev.hash, hash]);
    } catch (e) {
      reportAuditWriteFailure(db, e);
      throw new FleetpassError('FP_AUDIT_WRITE_FAILED', undefined, { cause: e, details: { action: entry.action } });
    }
  }

  function where(filter: AuditFilter = {}): { sql: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    const eq = (col: string, v: string | undefined) => {
      if (v) {
        clauses.push(`${col} = ?`);
        params.push(v);
      }
    };
    eq('node_id', filter.nodeId);
    eq('account', filter.account);
    eq('actor', filter.actor);
    eq('outcome', filter.outcome);
    eq('request_id', filter.requestId);
    eq('operation_id', filter.operationId);
    if (filter.action?.endsWith('*')) {
      clauses.push("action LIKE ? ESCAPE '\\'");
      params.push(`${filter.action.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    } else eq('action', filter.action);
    if (filter.since) {
      clauses.push('time >= ?');
      params.push(filter.since.toISOString());
    }
    if (filter.until) {
      clauses.push('time < ?');
      params.push(filter.until.toISOString());
    }
    return { sql: clauses.length ? clauses.join(' AND ') : '1', params };
  }

  function prepared(sql: string): Statement {
    let s = queryCache.get(sql);
    if (!s) {
      s = db.prepare(sql).raw(true);
      if (queryCache.size > 200) queryCache.clear();
      queryCache.set(sql, s);
    }
    return s;
  }

  function query(q: AuditQuery = {}): AuditPage {
    const limit = Math.min(Math.max(q.limit || 100, 1), 1000);
    const w = where(q.filter);
    let sql = `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE ${w.sql}`;
    const params = [...w.params];
    if (q.descending) {
      if (q.beforeSeq) {
        sql += ' AND seq < ?';
        params.push(q.beforeSeq);
      }
      sql += ' ORDER BY seq DESC LIMIT ?';
    } else {
      if (q.afterSeq) {
        sql += ' AND seq > ?';
        params.push(q.afterSeq);
      }
      sql += ' ORDER BY seq ASC LIMIT ?';
    }
    params.push(limit + 1);
    const rows = prepared(sql).all(...params) as AuditRow[];
    const more = rows.length > limit;
    const records = rows.slice(0, limit).map(rowToRecord);
    return { records, nextCursor: more ? records[records.length - 1].seq : 0 };
  }

  function* iterate(filter?: AuditFilter): IterableIterator<AuditRecord> {
    const w = where(filter);
    for (const row of db
      .prepare(`SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE ${w.sql} ORDER BY seq`)
      .raw(true)
      .iterate(...w.params)) {
      yield rowToRecord(row as AuditRow);
    }
  }

  return { append, head, query, iterate, count: () => countStmt.get() as number };
}

/**
 * Runs `fn` (state changes plus their audit records) in one immediate transaction. Any refusal of the
 * data file to take the write becomes FP_AUDIT_WRITE_FAILED: nothing was recorded, so nothing may be done.
 */
export function recordAudited<T>(db: Db, fn: () => T): T {
  try {
    return db.transaction(fn).immediate();
  } catch (e) {
    if (isFleetpassError(e)) throw e;
    if (isDataFileFailure(e)) {
      reportAuditWriteFailure(db, e);
      throw new FleetpassError('FP_AUDIT_WRITE_FAILED', undefined, { cause: e });
    }
    throw e;
  }
}
