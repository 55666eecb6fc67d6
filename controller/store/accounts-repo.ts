/**
 * Account state per node: the latest observation of each (node, backend, account), and a history row
 * whenever an observation differs from the previous one in anything but its observation time.
 */
import { AccountState, Backend } from '../../shared/gen/fleetpass/v1/common';
import { canonicalJson } from '../../shared/canonical-json';
import type { Db } from './database';

export interface AccountStateRecord {
  nodeId: string;
  state: AccountState;
  /** When this state was last observed / last differed from the one before. */
  observed: string;
  changed: string;
}

export interface AccountChange {
  nodeId: string;
  previous: AccountState | undefined;
  current: AccountState;
}

export interface AccountFilter {
  nodeIds?: readonly string[];
  account?: string;
  backend?: Backend;
  lockedOnly?: boolean;
}

interface Row {
  node_id: string;
  state_json: string;
  observed: string;
  changed: string;
}

/** The comparable form of a state: everything except when it was observed. */
function comparable(s: AccountState): string {
  const { observed: _observed, ...rest } = AccountState.toJSON(s) as Record<string, unknown>;
  return canonicalJson(rest);
}

function parse(json: string): AccountState {
  return AccountState.fromJSON(JSON.parse(json));
}

export type AccountsRepo = ReturnType<typeof createAccountsRepo>;

/** Prepared statements over account_state and account_state_history. */
export function createAccountsRepo(db: Db) {
  const latest = db.prepare<[string, number, string], Row>(
    'SELECT * FROM account_state WHERE node_id = ? AND backend = ? AND account = ?',
  );
  const upsert = db.prepare(`
    INSERT INTO account_state (node_id, backend, account, locked, state_json, observed, changed) VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT(node_id, backend, account) DO UPDATE SET locked = excluded.locked, state_json = excluded.state_json,
      observed = excluded.observed, changed = excluded.changed`);
  const history = db.prepare(
    'INSERT INTO account_state_history (node_id, backend, account, locked, state_json, observed, source) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const forNode = db.prepare<[string], { backend: number; account: string }>(
    'SELECT backend, account FROM account_state WHERE node_id = ?',
  );
  const remove = db.prepare('DELETE FROM account_state WHERE node_id = ? AND backend = ? AND account = ?');
  const trimCount = db.prepare(`
    DELETE FROM account_state_history WHERE node_id = ? AND backend = ? AND account = ? AND id <= (
      SELECT id FROM account_state_history WHERE node_id = ? AND backend = ? AND account = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`);
  const trimAge = db.prepare('DELETE FROM account_state_history WHERE node_id = ? AND observed < ?');
  const historyOf = db.prepare<[string, number, string, number], Row & { source: string }>(
    'SELECT node_id, state_json, observed, observed AS changed, source FROM account_state_history WHERE node_id = ? AND backend = ? AND account = ? ORDER BY id DESC LIMIT ?',
  );

  /** Stores observations; returns the ones that changed. Call inside a transaction. */
  function apply(nodeId: string, states: readonly AccountState[], source: string, now: Date): AccountChange[] {
    const changes: AccountChange[] = [];
    const nowIso = now.toISOString();
    for (const s of states) {
      // A node's clock (or a hostile node) must not date rows into the future, out of reach of the age bound.
      const observed = (s.observed && s.observed < now ? s.observed : now).toISOString();
      const json = JSON.stringify(AccountState.toJSON(s));
      const prevRow = latest.get(nodeId, s.backend, s.account);
      const previous = prevRow ? parse(prevRow.state_json) : undefined;
      const changed = !previous || comparable(previous) !== comparable(s);
      upsert.run(nodeId, s.backend, s.account, s.locked ? 1 : 0, json, observed, changed ? nowIso : prevRow!.changed);
      if (changed) {
        history.run(nodeId, s.backend, s.account, s.locked ? 1 : 0, json, observed, source);
        changes.push({ nodeId, previous, current: s });
      }
    }
    return changes;
  }

  /** With a complete report, accounts the agent no longer manages leave the latest view (history stays). */
  function pruneMissing(nodeId: string, present: readonly AccountState[]): number {
    const keep = new Set(present.map((s) => `${s.backend}/${s.account}`));
    let n = 0;
    for (const r of forNode.all(nodeId)) {
      if (!keep.has(`${r.backend}/${r.account}`)) n += remove.run(nodeId, r.backend, r.account).changes;
    }
    return n;
  }

  const reporters = db.prepare<[string, number], { node_id: string }>(
    "SELECT DISTINCT node_id FROM account_state_history WHERE node_id IN (SELECT value FROM json_each(?)) AND backend = ? AND source = 'report'",
  );

  /**
   * The nodes among `nodeIds` that have sent the controller a state report for `backend` (a real agent's
   * first report after connecting is complete, so their latest view lists every account they manage);
   * accounts seen only in operation results do not count.
   */
  function reportedBy(nodeIds: readonly string[], backend: number): Set<string> {
    if (nodeIds.length === 0) return new Set();
    return new Set(reporters.all(JSON.stringify(nodeIds), backend).map((r) => r.node_id));
  }

  function list(filter: AccountFilter = {}): AccountStateRecord[] {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (filter.nodeIds) {
      if (filter.nodeIds.length === 0) return [];
      clauses.push('node_id IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(filter.nodeIds));
    }
    if (filter.account) {
      clauses.push('account = ?');
      params.push(filter.account);
    }
    if (filter.backend) {
      clauses.push('backend = ?');
      params.push(filter.backend);
    }
    if (filter.lockedOnly) clauses.push('locked = 1');
    const sql = `SELECT node_id, state_json, observed, changed FROM account_state${clauses.length ? ` WHERE ${clauses.join(' AND ')}` : ''} ORDER BY node_id, backend, account`;
    return (db.prepare(sql).all(...params) as Row[]).map((r) => ({
      nodeId: r.node_id,
      state: parse(r.state_json),
      observed: r.observed,
      changed: r.changed,
    }));
  }

  /**
   * Keeps at most `maxPerAccount` history rows for each of `states`' accounts on the node, and none of the
   * node's rows observed before `before`. Call inside a transaction; returns the rows removed.
   */
  function trimHistory(
    nodeId: string,
    states: readonly AccountState[],
    keep: { maxPerAccount: number; before: Date },
  ): number {
    let n = trimAge.run(nodeId, keep.before.toISOString()).changes;
    for (const s of states)
      n += trimCount.run(nodeId, s.backend, s.account, nodeId, s.backend, s.account, keep.maxPerAccount).changes;
    return n;
  }

  return {
    apply,
    pruneMissing,
    trimHistory,
    list,
    reportedBy,
    get(nodeId: string, backend: Backend, account: string): AccountStateRecord | undefined {
      const r = latest.get(nodeId, backend, account);
      return r
        ? { nodeId: r.node_id, state: parse(r.state_json), observed: r.observed, changed: r.changed }
        : undefined;
    },
    /** Newest first. */
    history(
      nodeId: string,
      backend: Backend,
      account: string,
      limit = 50,
    ): Array<{ state: AccountState; observed: string; source: string }> {
      return historyOf
        .all(nodeId, backend, account, limit)
        .map((r) => ({ state: parse(r.state_json), observed: r.observed, source: r.source }));
    },
  };
}
