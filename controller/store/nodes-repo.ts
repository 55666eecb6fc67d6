/** The fleet inventory: one row per node, written from hellos and heartbeats, read by the admin layer. */
import type { Db } from './database';
import type { AccountPolicy } from '../../shared/gen/fleetpass/v1/agent';
import type { Backend } from '../../shared/gen/fleetpass/v1/common';

export interface NodeRecord {
  id: string;
  hostname: string;
  platform: string;
  /** The labels an admin gave the node (enrollment token or set later): the only labels selectors match. */
  labels: Record<string, string>;
  /** What the node says about itself in its hello: shown, never used to pick nodes. */
  reportedLabels: Record<string, string>;
  agentVersion: string;
  backends: Backend[];
  /** The agent's local policy from its last hello. */
  policy: AccountPolicy[];
  firstSeen: string;
  lastSeen: string | null;
  online: boolean;
  stale: boolean;
  revoked: boolean;
  busy: boolean;
  certificateExpires: string | null;
}

export interface NodeHelloFacts {
  hostname: string;
  platform: string;
  /** The hello's own labels: stored as reported labels, never as the labels selectors match. */
  labels: Record<string, string>;
  /** The labels of the node's enrollment, when it has one: they replace its admin labels. */
  adminLabels?: Record<string, string>;
  agentVersion: string;
  backends: Backend[];
  policy: AccountPolicy[];
  busy: boolean;
  certificateExpires?: string;
}

export interface NodeFilter {
  ids?: readonly string[];
  /** Every label must match. */
  labels?: Record<string, string>;
  online?: boolean;
  includeRevoked?: boolean;
}

interface Row {
  id: string;
  hostname: string;
  platform: string;
  labels_json: string;
  reported_labels_json: string;
  agent_version: string;
  backends_json: string;
  policy_json: string;
  first_seen: string;
  last_seen: string | null;
  online: number;
  stale: number;
  revoked: number;
  busy: number;
  certificate_expires: string | null;
}

function toRecord(r: Row): NodeRecord {
  return {
    id: r.id,
    hostname: r.hostname,
    platform: r.platform,
    labels: JSON.parse(r.labels_json),
    reportedLabels: JSON.parse(r.reported_labels_json),
    agentVersion: r.agent_version,
    backends: JSON.parse(r.backends_json),
    policy: JSON.parse(r.policy_json),
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    online: r.online === 1,
    stale: r.stale === 1,
    revoked: r.revoked === 1,
    busy: r.busy === 1,
    certificateExpires: r.certificate_expires,
  };
}

export type NodesRepo = ReturnType<typeof createNodesRepo>;

/** Prepared statements over the nodes table. */
export function createNodesRepo(db: Db) {
  const get = db.prepare<[string], Row>('SELECT * FROM nodes WHERE id = ?');
  const upsert = db.prepare(`
    INSERT INTO nodes (id, hostname, platform, labels_json, reported_labels_json, agent_version, backends_json, policy_json, first_seen, last_seen, online, stale, busy, certificate_expires)
    VALUES (@id, @hostname, @platform, coalesce(@adminLabels, '{}'), @labels, @agentVersion, @backends, @policy, @now, @now, 1, 0, @busy, @certificateExpires)
    ON CONFLICT(id) DO UPDATE SET hostname = excluded.hostname, platform = excluded.platform,
      labels_json = coalesce(@adminLabels, nodes.labels_json), reported_labels_json = excluded.reported_labels_json,
      agent_version = excluded.agent_version, backends_json = excluded.backends_json, policy_json = excluded.policy_json,
      last_seen = excluded.last_seen, online = 1, stale = 0, busy = excluded.busy,
      certificate_expires = coalesce(excluded.certificate_expires, nodes.certificate_expires)`);
  const ensure = db.prepare(
    'INSERT INTO nodes (id, first_seen, labels_json) VALUES (?, ?, ?) ON CONFLICT(id) DO NOTHING',
  );
  const setOffline = db.prepare('UPDATE nodes SET online = 0, last_seen = coalesce(?, last_seen) WHERE id = ?');
  const allOffline = db.prepare('UPDATE nodes SET online = 0 WHERE online = 1');
  const touch = db.prepare('UPDATE nodes SET last_seen = ?, busy = coalesce(?, busy), stale = 0 WHERE id = ?');
  const staleCandidates = db.prepare<[string, string], Row>(
    'SELECT * FROM nodes WHERE stale = 0 AND revoked = 0 AND (last_seen IS NULL OR last_seen < ?) AND first_seen < ?',
  );
  const markStale = db.prepare('UPDATE nodes SET stale = 1 WHERE id = ?');
  const setLabels = db.prepare('UPDATE nodes SET labels_json = ? WHERE id = ?');
  // The enrollment's labels are applied at every hello, so they must follow an admin's change.
  const setEnrollmentLabels = db.prepare('UPDATE node_enrollments SET labels_json = ? WHERE node_id = ?');
  const setRevoked = db.prepare(
    'UPDATE nodes SET revoked = ?, online = CASE WHEN ? THEN 0 ELSE online END WHERE id = ?',
  );

  function list(filter: NodeFilter = {}): NodeRecord[] {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (filter.ids) {
      if (filter.ids.length === 0) return [];
      clauses.push(`id IN (SELECT value FROM json_each(?))`);
      params.push(JSON.stringify(filter.ids));
    }
    for (const [k, v] of Object.entries(filter.labels ?? {})) {
      clauses.push(`json_extract(labels_json, ?) = ?`);
      params.push(`$."${k.replace(/"/g, '""')}"`, v);
    }
    if (filter.online !== undefined) {
      clauses.push('online = ?');
      params.push(filter.online ? 1 : 0);
    }
    if (!filter.includeRevoked) clauses.push('revoked = 0');
    const sql = `SELECT * FROM nodes${clauses.length ? ` WHERE ${clauses.join(' AND ')}` : ''} ORDER BY id`;
    return (db.prepare(sql).all(...params) as Row[]).map(toRecord);
  }

  return {
    get: (id: string): NodeRecord | undefined => {
      const r = get.get(id);
      return r ? toRecord(r) : undefined;
    },
    list,
    /** Records a hello: creates the node on first contact, refreshes its facts (its labels as reported ones), marks it online. */
    recordHello(id: string, facts: NodeHelloFacts, now: Date): void {
      upsert.run({
        id,
        hostname: facts.hostname,
        platform: facts.platform,
        labels: JSON.stringify(facts.labels),
        agentVersion: facts.agentVersion,
        adminLabels: facts.adminLabels ? JSON.stringify(facts.adminLabels) : null,
        backends: JSON.stringify(facts.backends),
        policy: JSON.stringify(facts.policy),
        now: now.toISOString(),
        busy: facts.busy ? 1 : 0,
        certificateExpires: facts.certificateExpires ?? null,
      });
    },
    /** Makes sure a node row exists (enrollment, tests) without touching an existing one; `labels` are admin labels. */
    ensure(id: string, now: Date, labels: Record<string, string> = {}): void {
      ensure.run(id, now.toISOString(), JSON.stringify(labels));
    },
    setOffline(id: string, lastSeen?: Date): void {
      setOffline.run(lastSeen?.toISOString() ?? null, id);
    },
    /** After a restart no stream survives; every node is offline until it says hello again. */
    markAllOffline(): number {
      return allOffline.run().changes;
    },
    /** Liveness from a heartbeat or any message; clears the stale flag. */
    touch(id: string, at: Date, busy?: boolean): void {
      touch.run(at.toISOString(), busy === undefined ? null : busy ? 1 : 0, id);
    },
    /** Nodes not yet stale whose last sign of life is older than `before`. */
    staleCandidates(before: Date): NodeRecord[] {
      return staleCandidates.all(before.toISOString(), before.toISOString()).map(toRecord);
    },
    markStale(id: string): void {
      markStale.run(id);
    },
    /** Replaces the node's admin labels (and its enrollment's); false when there is no such node. Call in a transaction. */
    setLabels(id: string, labels: Record<string, string>): boolean {
      const json = JSON.stringify(labels);
      if (setLabels.run(json, id).changes === 0) return false;
      setEnrollmentLabels.run(json, id);
      return true;
    },
    setRevoked(id: string, revoked: boolean): boolean {
      return setRevoked.run(revoked ? 1 : 0, revoked ? 1 : 0, id).changes > 0;
    },
  };
}
