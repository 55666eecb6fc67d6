/**
 * Lockouts, resets and unlocks per UTC day and node, for the console's chart: lockouts from the
 * account state history (an observation that is locked after one that was not, dated by the last
 * failure), resets and unlocks from the audit log's `operation.succeeded` records (the operation says
 * which). Two grouped queries count per day and node (the top-nodes list needs nodes; they are folded
 * into sites here, so the site rule stays siteOf's), and an answer is served again for a minute because
 * any viewer may poll /api/activity. Read-only; the caller has checked the role.
 */
import type { Statement } from 'better-sqlite3';
import type { Clock } from '../../shared/clock';
import { Action } from '../../shared/gen/fleetpass/v1/common';
import type { Db } from './database';
import type { NodeRecord } from './nodes-repo';

const DAY_MS = 86_400_000;
/** History rows considered per account, newest first; older lock changes fall outside any sensible window anyway. */
export const HISTORY_PER_ACCOUNT = 500;
/** How long an answer to the same query is served again. */
export const ACTIVITY_CACHE_MS = 60_000;

/** What the chart needs of a node; the list includes revoked nodes (their past activity still counts). */
export type ActivityNode = Pick<NodeRecord, 'id' | 'hostname' | 'labels' | 'revoked'>;

// Every stored time is ISO 8601 UTC ("…Z", from toISOString), so its first ten characters are its UTC day.
// A lock begins at a locked row whose previous row (by id) was not locked; among an account's newest
// HISTORY_PER_ACCOUNT rows the oldest has no previous one. Only accounts still in the latest view
// (account_state) of nodes that are not revoked count, as the accounts list shows them.
const LOCKOUTS_SQL = `
SELECT day, node_id AS nodeId, count(*) AS n FROM (
  SELECT h.node_id, h.locked,
    substr(coalesce(json_extract(h.state_json, '$.lastFailure'), h.observed), 1, 10) AS day,
    lag(h.locked) OVER (PARTITION BY h.node_id, h.backend, h.account ORDER BY h.id) AS previous,
    row_number() OVER (PARTITION BY h.node_id, h.backend, h.account ORDER BY h.id DESC) AS newest
  FROM account_state_history h
  JOIN account_state a ON a.node_id = h.node_id AND a.backend = h.backend AND a.account = h.account
  WHERE h.node_id IN (SELECT value FROM json_each(@nodes))
)
WHERE newest <= @perAccount AND locked = 1 AND (previous IS NOT 1 OR newest = @perAccount) AND day BETWEEN @first AND @last
GROUP BY day, node_id`;

const CHANGES_SQL = `
SELECT substr(l.time, 1, 10) AS day, l.node_id AS nodeId, o.action AS action, count(*) AS n
FROM audit_log l JOIN operations o ON o.id = l.operation_id
WHERE l.action = 'operation.succeeded' AND l.time >= @since AND substr(l.time, 1, 10) <= @last AND o.action IN (@reset, @unlock)
GROUP BY day, l.node_id, o.action`;

/** How many of something one node had on one UTC day (YYYY-MM-DD). */
export interface DayCount {
  day: string;
  nodeId: string;
  n: number;
}

/** The counts behind the activity chart; folding them into sites is the console's (web/activity.ts). */
export interface ActivityCounts {
  /** The UTC days asked for, oldest first. */
  days: string[];
  /** Every node, revoked ones included. */
  nodes: readonly ActivityNode[];
  lockouts: DayCount[];
  /** Successful resets and unlocks; `action` is Action.ACTION_RESET_PASSWORD or Action.ACTION_UNLOCK. */
  changes: Array<DayCount & { action: number }>;
}

export interface ActivityReader {
  /** The last `days` UTC days up to the clock's now; the same query within the cache time gets the same answer. */
  read(days: number): ActivityCounts;
}

/** The activity reader over the controller's data file; `nodes` lists every node, revoked ones included. */
export function createActivityReader(deps: {
  db: Db;
  nodes: () => readonly ActivityNode[];
  clock: Clock;
  cacheMs?: number;
}): ActivityReader {
  const lockouts = deps.db.prepare(LOCKOUTS_SQL) as Statement<[Record<string, unknown>], DayCount>;
  const changes = deps.db.prepare(CHANGES_SQL) as Statement<[Record<string, unknown>], DayCount & { action: number }>;
  const cacheMs = deps.cacheMs ?? ACTIVITY_CACHE_MS;
  // Keyed by days (1-90, checked by the route); an entry also ends when the UTC day turns.
  const cache = new Map<number, { at: number; first: string; value: ActivityCounts }>();

  return {
    read(days) {
      const now = deps.clock.now();
      const dayLabels = utcDays(now, days);
      const hit = cache.get(days);
      if (hit && hit.first === dayLabels[0] && now.getTime() >= hit.at && now.getTime() - hit.at < cacheMs)
        return hit.value;
      const nodeList = deps.nodes();
      const params = {
        nodes: JSON.stringify(nodeList.filter((n) => !n.revoked).map((n) => n.id)),
        perAccount: HISTORY_PER_ACCOUNT,
        first: dayLabels[0],
        last: dayLabels[days - 1],
        since: `${dayLabels[0]}T00:00:00.000Z`,
        reset: Action.ACTION_RESET_PASSWORD,
        unlock: Action.ACTION_UNLOCK,
      };
      const value: ActivityCounts = {
        days: dayLabels,
        nodes: nodeList,
        lockouts: lockouts.all(params),
        changes: changes.all(params),
      };
      cache.set(days, { at: now.getTime(), first: dayLabels[0], value });
      return value;
    },
  };
}

/** The last `days` UTC days up to `now`, oldest first (YYYY-MM-DD). */
function utcDays(now: Date, days: number): string[] {
  const start = Math.floor(now.getTime() / DAY_MS) * DAY_MS - (days - 1) * DAY_MS;
  return Array.from({ length: days }, (_, i) => new Date(start + i * DAY_MS).toISOString().slice(0, 10));
}
