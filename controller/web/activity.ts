/**
 * Lockouts, resets and unlocks per UTC day and per site, for the console's chart: lockouts from the
 * account state history (an observation that is locked after one that was not, dated by the last
 * failure), resets and unlocks from the audit log's `operation.succeeded` records (the operation says
 * which). Read-only; the caller has checked the role.
 */
import { Action } from '../../shared/gen/fleetpass/v1/common';
import type { ControllerService } from '../service';
import type { ActivityJson } from './api-types';
import { siteOf } from './views';

const DAY_MS = 86_400_000;
/** History rows read per account; older lock changes than these fall outside any sensible window anyway. */
const HISTORY_PER_ACCOUNT = 500;

interface Tally {
  lockouts: number[];
  resets: number[];
  unlocks: number[];
}

/** Counts the last `days` UTC days up to `now`. */
export function computeActivity(service: Pick<ControllerService, 'listNodes' | 'listAccounts' | 'accountHistory' | 'queryAudit' | 'getOperation'>, now: Date, days: number): ActivityJson {
  const start = Math.floor(now.getTime() / DAY_MS) * DAY_MS - (days - 1) * DAY_MS;
  const dayLabels = Array.from({ length: days }, (_, i) => new Date(start + i * DAY_MS).toISOString().slice(0, 10));
  const dayOf = (iso: string | Date | undefined): number => {
    if (!iso) return -1;
    const t = new Date(iso).getTime();
    const d = Math.floor((t - start) / DAY_MS);
    return d >= 0 && d < days ? d : -1;
  };
  const nodes = new Map(service.listNodes({ includeRevoked: true }).map((n) => [n.id, { hostname: n.hostname, site: siteOf(n.labels) }]));
  const empty = (): Tally => ({ lockouts: new Array(days).fill(0), resets: new Array(days).fill(0), unlocks: new Array(days).fill(0) });
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
    const history = service.accountHistory(node.id, account.state.backend, account.state.account, HISTORY_PER_ACCOUNT).reverse();
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
    const page = service.queryAudit({ filter: { action: 'operation.succeeded', since: new Date(start) }, afterSeq: after, limit: 1000 });
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
    .map(([nodeId, c]) => ({ nodeId, hostname: nodes.get(nodeId)?.hostname ?? '', site: nodes.get(nodeId)?.site ?? '(no site)', ...c }))
    .sort((a, b) => b.lockouts - a.lockouts || b.resets + b.unlocks - (a.resets + a.unlocks) || a.nodeId.localeCompare(b.nodeId))
    .slice(0, 10);
  return { days: dayLabels, sites, topNodes };
}
