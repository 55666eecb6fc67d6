import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeClock } from '../../shared/clock';
import { Action, AccountState, Backend } from '../../shared/gen/fleetpass/v1/common';
import { createAuditLog } from '../audit';
import { createStore, openDatabase, type Store } from '../store';
import type { ActivityJson } from './api-types';
import { ACTIVITY_CACHE_MS, HISTORY_PER_ACCOUNT, createActivityReader } from '../store/activity-repo';
import { activityJson } from './activity';
import { siteOf } from './views';

const DAY = 86_400_000;
const now = new Date('2026-03-10T15:00:00Z');
const at = (daysAgo: number, hour = 9) => new Date(Date.UTC(2026, 2, 10 - daysAgo, hour));

function state(locked: boolean, lastFailure?: Date, account = 'ilmnuser', failureCount = locked ? 3 : 0): AccountState {
  return AccountState.fromPartial({
    backend: Backend.BACKEND_LINUX,
    account,
    exists: true,
    locked,
    lastFailure,
    failureCount,
  });
}

/** A real data file with nodes, account observations, operations and their audit records, written through the repositories. */
function fixture() {
  const store = createStore(openDatabase(join(mkdtempSync(join(tmpdir(), 'fp-activity-')), 'a.db')));
  const clock = fakeClock(now);
  const audit = createAuditLog(store.db, clock);
  let ops = 0;
  return {
    store,
    clock,
    audit,
    node(id: string, labels: Record<string, string>) {
      store.nodes.recordHello(
        id,
        {
          hostname: `${id}.lab`,
          platform: 'nextseq-2000',
          labels: {},
          adminLabels: labels,
          agentVersion: '1',
          backends: [Backend.BACKEND_LINUX],
          policy: [],
          busy: false,
        },
        now,
      );
    },
    /** Stores an observation; history gets a row only when the state changed. */
    observe(nodeId: string, s: AccountState, observed: Date) {
      store.accounts.apply(nodeId, [{ ...s, observed }], 'report', observed);
    },
    /** An operation of `action` on `nodeId` and its audit record at `time` (outcome per `auditAction`). */
    operation(nodeId: string, action: Action, time: Date, auditAction = 'operation.succeeded') {
      const id = `op-${++ops}`;
      const iso = time.toISOString();
      store.operations.insertRequest({
        id: `cr-${ops}`,
        requestedBy: 'otto',
        reason: 'T-1',
        backend: Backend.BACKEND_LINUX,
        account: 'ilmnuser',
        action,
        state: 'done',
        needsApproval: false,
        privileged: false,
        temporary: false,
        requireIdle: false,
        approvedBy: '',
        rejectedBy: '',
        decisionNote: '',
        created: iso,
        updated: iso,
        expires: iso,
      });
      store.operations.insertOperation(
        {
          id,
          requestId: `cr-${ops}`,
          nodeId,
          backend: Backend.BACKEND_LINUX,
          account: 'ilmnuser',
          action,
          state: 'succeeded',
          hasSecret: false,
          created: iso,
          expires: iso,
        },
        'otto',
      );
      clock.set(time);
      audit.append({
        actor: `node:${nodeId}`,
        action: auditAction,
        nodeId,
        account: 'ilmnuser',
        operationId: id,
        outcome: 'ok',
      });
      clock.set(now);
    },
    reader() {
      const counts = createActivityReader({
        db: store.db,
        nodes: () => store.nodes.list({ includeRevoked: true }),
        clock,
      });
      return { read: (days: number): ActivityJson => activityJson(counts.read(days)) };
    },
  };
}

/**
 * The computation /api/activity made before the grouped queries, row by row through the service (kept
 * here as the reference the queries must match).
 */
function perRowActivity(service: ReturnType<typeof serviceOver>, now: Date, days: number): ActivityJson {
  const start = Math.floor(now.getTime() / DAY) * DAY - (days - 1) * DAY;
  const dayLabels = Array.from({ length: days }, (_, i) => new Date(start + i * DAY).toISOString().slice(0, 10));
  const dayOf = (iso: string | Date | undefined): number => {
    if (!iso) return -1;
    const d = Math.floor((new Date(iso).getTime() - start) / DAY);
    return d >= 0 && d < days ? d : -1;
  };
  const nodes = new Map(
    service.listNodes({ includeRevoked: true }).map((n) => [n.id, { hostname: n.hostname, site: siteOf(n.labels) }]),
  );
  type Tally = { lockouts: number[]; resets: number[]; unlocks: number[] };
  const empty = (): Tally => ({
    lockouts: new Array(days).fill(0),
    resets: new Array(days).fill(0),
    unlocks: new Array(days).fill(0),
  });
  const bySite = new Map<string, Tally>();
  const byNode = new Map<string, { lockouts: number; resets: number; unlocks: number }>();
  const count = (nodeId: string, day: number, kind: keyof Tally) => {
    const site = nodes.get(nodeId)?.site ?? '(no site)';
    if (!bySite.has(site)) bySite.set(site, empty());
    bySite.get(site)![kind][day]++;
    const n = byNode.get(nodeId) ?? { lockouts: 0, resets: 0, unlocks: 0 };
    n[kind]++;
    byNode.set(nodeId, n);
  };
  for (const { node, account } of service.listAccounts()) {
    const history = service
      .accountHistory(node.id, account.state.backend, account.state.account, HISTORY_PER_ACCOUNT)
      .reverse();
    let wasLocked = false;
    for (const h of history) {
      if (h.state.locked && !wasLocked) {
        const day = dayOf(h.state.lastFailure ?? h.observed);
        if (day >= 0) count(node.id, day, 'lockouts');
      }
      wasLocked = h.state.locked;
    }
  }
  let after = 0;
  for (;;) {
    const page = service.queryAudit({
      filter: { action: 'operation.succeeded', since: new Date(start) },
      afterSeq: after,
      limit: 1000,
    });
    for (const r of page.records) {
      const day = dayOf(r.time);
      const op = r.operationId ? service.getOperation(r.operationId) : undefined;
      if (day < 0 || !op) continue;
      if (op.action === Action.ACTION_RESET_PASSWORD) count(r.nodeId, day, 'resets');
      else if (op.action === Action.ACTION_UNLOCK) count(r.nodeId, day, 'unlocks');
    }
    if (!page.nextCursor) break;
    after = page.nextCursor;
  }
  const total = (t: Tally) => t.lockouts.reduce((a, b) => a + b, 0);
  const sites = [...bySite.entries()]
    .sort((a, b) => total(b[1]) - total(a[1]) || a[0].localeCompare(b[0]))
    .map(([site, t]) => ({ site, ...t }));
  const topNodes = [...byNode.entries()]
    .map(([nodeId, c]) => ({
      nodeId,
      hostname: nodes.get(nodeId)?.hostname ?? '',
      site: nodes.get(nodeId)?.site ?? '(no site)',
      ...c,
    }))
    .sort(
      (a, b) =>
        b.lockouts - a.lockouts || b.resets + b.unlocks - (a.resets + a.unlocks) || a.nodeId.localeCompare(b.nodeId),
    )
    .slice(0, 10);
  return { days: dayLabels, sites, topNodes };
}

/** The reads perRowActivity made through the service, answered by the same store (accounts of revoked nodes left out, as listAccounts does). */
function serviceOver(store: Store, audit: ReturnType<typeof createAuditLog>) {
  return {
    listNodes: (f: { includeRevoked?: boolean } = {}) => store.nodes.list(f),
    listAccounts: () => {
      const live = new Map(store.nodes.list({}).map((n) => [n.id, n]));
      return store.accounts
        .list({})
        .filter((a) => live.has(a.nodeId))
        .map((account) => ({ node: live.get(account.nodeId)!, account }));
    },
    accountHistory: store.accounts.history,
    queryAudit: audit.query,
    getOperation: store.operations.getOperation,
  };
}

/** A small deterministic generator, so the fixture is the same on every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('activity', () => {
  it('counts each lock that begins (dated by the last failure) per site and UTC day, and resets and unlocks from the audit', () => {
    const f = fixture();
    f.node('a', { site: 'bldg4' });
    f.node('b', {});
    f.observe('a', state(false), at(6));
    f.observe('a', state(true, at(5, 8)), at(5, 9));
    f.observe('a', state(true, at(5, 8), 'ilmnuser', 4), at(5, 10)); // still locked: not a new lockout
    f.observe('a', state(false), at(5, 11));
    f.observe('a', state(true, at(0, 7)), at(0, 8));
    f.observe('b', state(true, at(40)), at(40)); // outside the window
    expect(f.store.accounts.history('a', Backend.BACKEND_LINUX, 'ilmnuser')).toHaveLength(5);
    f.operation('a', Action.ACTION_RESET_PASSWORD, at(5, 11));
    f.operation('b', Action.ACTION_UNLOCK, at(1));
    f.operation('a', Action.ACTION_UNLOCK, at(0, 12));
    f.operation('a', Action.ACTION_RESET_PASSWORD, new Date(at(13).getTime() - DAY)); // before the window

    const r = f.reader().read(7);
    expect(r.days).toEqual([
      '2026-03-04',
      '2026-03-05',
      '2026-03-06',
      '2026-03-07',
      '2026-03-08',
      '2026-03-09',
      '2026-03-10',
    ]);
    const bldg4 = r.sites.find((s) => s.site === 'bldg4')!;
    expect(bldg4.lockouts).toEqual([0, 1, 0, 0, 0, 0, 1]);
    expect(bldg4.resets).toEqual([0, 1, 0, 0, 0, 0, 0]);
    expect(bldg4.unlocks).toEqual([0, 0, 0, 0, 0, 0, 1]);
    const none = r.sites.find((s) => s.site === '(no site)')!;
    expect(none.lockouts.every((n) => n === 0)).toBe(true);
    expect(none.unlocks).toEqual([0, 0, 0, 0, 0, 1, 0]);
    expect(r.sites[0].site).toBe('bldg4'); // most lockouts first
    expect(r.topNodes).toEqual([
      { nodeId: 'a', hostname: 'a.lab', site: 'bldg4', lockouts: 2, resets: 1, unlocks: 1 },
      { nodeId: 'b', hostname: 'b.lab', site: '(no site)', lockouts: 0, resets: 0, unlocks: 1 },
    ]);
    expect(perRowActivity(serviceOver(f.store, f.audit), now, 7)).toEqual(r);
  });

  it('returns empty series for a quiet fleet', () => {
    const r = fixture().reader().read(3);
    expect(r).toEqual({ days: ['2026-03-08', '2026-03-09', '2026-03-10'], sites: [], topNodes: [] });
  });

  it('gives what the per-row computation gave, on a mixed fleet', () => {
    const f = fixture();
    const random = seeded(7);
    const sites: Array<Record<string, string>> = [
      { site: 'bldg4' },
      { site: 'bldg7' },
      {},
      { site: 'bldg4', room: 'b12' },
    ];
    const nodeIds = Array.from({ length: 8 }, (_, i) => `nx-${i}`);
    nodeIds.forEach((id, i) => f.node(id, sites[i % sites.length]));
    const accounts = ['ilmnuser', 'ilmnadmin', 'root'];
    for (const id of nodeIds) {
      for (const account of accounts) {
        // A run of observations over the last 50 days (some before any window), locked and not, some without a last failure.
        let t = now.getTime() - 50 * DAY;
        let failures = 0;
        while (t < now.getTime() + DAY) {
          t += random() * 3 * DAY;
          const locked = random() < 0.5;
          failures = locked ? failures + 1 : 0;
          const lastFailure = locked && random() < 0.8 ? new Date(t - random() * 2 * DAY) : undefined;
          f.observe(id, state(locked, lastFailure, account, failures), new Date(t));
        }
      }
    }
    // More than HISTORY_PER_ACCOUNT changes on one account (locked in pairs): only its newest rows count, and the
    // oldest of them, locked after a locked row, counts as a start.
    const rows = HISTORY_PER_ACCOUNT + 123;
    for (let i = 0; i < rows; i++) {
      const t = new Date(now.getTime() - 20 * DAY + i * 40 * 60_000);
      f.observe('nx-1', state(Math.floor(i / 2) % 2 === 1, new Date(t.getTime() - 60_000), 'svc', i), t);
    }
    expect(Math.floor((rows - HISTORY_PER_ACCOUNT) / 2) % 2 === 1 && (rows - HISTORY_PER_ACCOUNT) % 2 === 1).toBe(true);
    expect(f.store.accounts.history('nx-1', Backend.BACKEND_LINUX, 'svc', 10_000).length).toBeGreaterThan(
      HISTORY_PER_ACCOUNT,
    );
    // An account the agent no longer reports (history kept, left out of the latest view) and a revoked node.
    f.store.accounts.pruneMissing('nx-2', [state(false, undefined, 'ilmnuser'), state(false, undefined, 'root')]);
    f.store.nodes.setRevoked('nx-3', true);
    const actions = [Action.ACTION_RESET_PASSWORD, Action.ACTION_UNLOCK, Action.ACTION_REFRESH_STATE];
    for (let i = 0; i < 150; i++) {
      const time = new Date(now.getTime() - random() * 95 * DAY + 0.5 * DAY);
      f.operation(
        nodeIds[Math.floor(random() * nodeIds.length)],
        actions[i % 3],
        time,
        i % 10 === 9 ? 'operation.failed' : 'operation.succeeded',
      );
    }
    f.audit.append({ actor: 'node:nx-0', action: 'operation.succeeded', nodeId: 'nx-0', outcome: 'ok' }); // no operation

    const svc = serviceOver(f.store, f.audit);
    for (const when of [now, new Date('2026-03-11T00:00:00.000Z'), new Date('2026-02-20T23:59:59.999Z')]) {
      f.clock.set(when);
      const reader = f.reader();
      for (const days of [1, 7, 30, 90]) {
        const expected = perRowActivity(svc, when, days);
        expect(reader.read(days)).toEqual(expected);
        if (days === 30 && when === now) expect(expected.topNodes.length).toBeGreaterThan(3);
      }
    }
  });

  it('answers the same query from its cache for a minute, then reads again', () => {
    const f = fixture();
    f.node('a', { site: 'bldg4' });
    f.operation('a', Action.ACTION_UNLOCK, at(0, 10));
    const reader = f.reader();
    const unlocks = (r: ActivityJson) =>
      r.sites.find((s) => s.site === 'bldg4')?.unlocks.reduce((a, b) => a + b, 0) ?? 0;
    expect(unlocks(reader.read(7))).toBe(1);

    f.operation('a', Action.ACTION_UNLOCK, at(0, 11));
    f.clock.set(new Date(now.getTime() + ACTIVITY_CACHE_MS - 1));
    expect(unlocks(reader.read(7))).toBe(1); // cached
    expect(unlocks(reader.read(3))).toBe(2); // another query
    f.clock.set(new Date(now.getTime() + ACTIVITY_CACHE_MS));
    expect(unlocks(reader.read(7))).toBe(2);
  });

  it("does not serve yesterday's window after the UTC day turns", () => {
    const f = fixture();
    f.clock.set(new Date('2026-03-10T23:59:50Z'));
    const reader = f.reader();
    expect(reader.read(2).days).toEqual(['2026-03-09', '2026-03-10']);
    f.clock.set(new Date('2026-03-11T00:00:10Z'));
    expect(reader.read(2).days).toEqual(['2026-03-10', '2026-03-11']);
  });
});
