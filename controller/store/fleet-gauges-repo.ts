/**
 * The counts behind the metrics gauges, read from the data file at scrape time (cheaper and truer than
 * tracking every change in memory, and right after a restart).
 */
import type { Db } from './database';

export interface FleetGauges {
  /** Nodes by state: revoked, stale, online, offline (each node counted once, in that precedence). */
  nodesByState(): Array<{ state: string; count: number }>;
  /** Locked accounts on nodes that are not revoked, by the node's site label (admin label, else reported) and backend number. */
  lockedAccounts(): Array<{ site: string; backend: number; count: number }>;
  /** Operations by action number and state. */
  operations(): Array<{ action: number; state: string; count: number }>;
  changeRequestsPendingApproval(): number;
  /** Seq of the last audit record (0 when empty), and the time of the first record after `afterSeq`. */
  auditHead(): number;
  firstRecordAfter(afterSeq: number): { seq: number; time: string } | undefined;
  lastCheckpointTime(): string | undefined;
  /** The soonest expiry among the certificates of enrolled, not revoked nodes. */
  soonestNodeCertificateExpiry(): string | undefined;
}

export function createFleetGaugesRepo(db: Db): FleetGauges {
  const nodes =
    db.prepare(`SELECT CASE WHEN revoked THEN 'revoked' WHEN stale THEN 'stale' WHEN online THEN 'online' ELSE 'offline' END AS state, count(*) AS count
    FROM nodes GROUP BY 1`);
  const locked =
    db.prepare(`SELECT coalesce(json_extract(n.labels_json, '$.site'), json_extract(n.reported_labels_json, '$.site'), '') AS site, a.backend AS backend, count(*) AS count
    FROM account_state a JOIN nodes n ON n.id = a.node_id WHERE a.locked = 1 AND n.revoked = 0 GROUP BY 1, 2`);
  const ops = db.prepare('SELECT action, state, count(*) AS count FROM operations GROUP BY 1, 2');
  const pending = db.prepare("SELECT count(*) FROM change_requests WHERE state = 'pending_approval'").pluck();
  const head = db.prepare('SELECT coalesce(max(seq), 0) FROM audit_log').pluck();
  const after = db.prepare('SELECT seq, time FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 1');
  const checkpoint = db.prepare('SELECT time FROM audit_checkpoints ORDER BY id DESC LIMIT 1').pluck();
  const certs = db
    .prepare('SELECT min(certificate_expires) FROM nodes WHERE revoked = 0 AND certificate_expires IS NOT NULL')
    .pluck();
  return {
    nodesByState: () => nodes.all() as Array<{ state: string; count: number }>,
    lockedAccounts: () => locked.all() as Array<{ site: string; backend: number; count: number }>,
    operations: () => ops.all() as Array<{ action: number; state: string; count: number }>,
    changeRequestsPendingApproval: () => pending.get() as number,
    auditHead: () => head.get() as number,
    firstRecordAfter: (seq) => after.get(seq) as { seq: number; time: string } | undefined,
    lastCheckpointTime: () => (checkpoint.get() as string | null | undefined) ?? undefined,
    soonestNodeCertificateExpiry: () => (certs.get() as string | null) ?? undefined,
  };
}
