/**
 * The activity chart's JSON: the per-day, per-node counts of store/activity-repo (read through the
 * service, which checks the role) folded into series per site and the top nodes.
 */
import { Action } from '../../shared/gen/fleetpass/v1/common';
import type { ActivityCounts, DayCount } from '../store/activity-repo';
import type { ActivityJson } from './api-types';
import { siteOf } from './views';

interface Tally {
  lockouts: number[];
  resets: number[];
  unlocks: number[];
}

/** The chart's JSON for the counts. */
export function activityJson(counts: ActivityCounts): ActivityJson {
  return tally(counts.days, counts.nodes, counts.lockouts, counts.changes);
}

/** Folds the per-day, per-node counts into the chart's series per site and its top nodes. */
function tally(
  dayLabels: string[],
  nodeList: ActivityCounts['nodes'],
  lockouts: DayCount[],
  changes: Array<DayCount & { action: number }>,
): ActivityJson {
  const days = dayLabels.length;
  const dayIndex = new Map(dayLabels.map((d, i) => [d, i]));
  const nodes = new Map(nodeList.map((n) => [n.id, { hostname: n.hostname, site: siteOf(n.labels) }]));
  const empty = (): Tally => ({
    lockouts: new Array(days).fill(0),
    resets: new Array(days).fill(0),
    unlocks: new Array(days).fill(0),
  });
  const bySite = new Map<string, Tally>();
  const byNode = new Map<string, { lockouts: number; resets: number; unlocks: number }>();
  const count = (r: DayCount, kind: keyof Tally) => {
    const day = dayIndex.get(r.day);
    if (day === undefined) return;
    const site = nodes.get(r.nodeId)?.site ?? '(no site)';
    if (!bySite.has(site)) bySite.set(site, empty());
    bySite.get(site)![kind][day] += r.n;
    const n = byNode.get(r.nodeId) ?? { lockouts: 0, resets: 0, unlocks: 0 };
    n[kind] += r.n;
    byNode.set(r.nodeId, n);
  };
  for (const r of lockouts) count(r, 'lockouts');
  for (const r of changes) count(r, r.action === Action.ACTION_RESET_PASSWORD ? 'resets' : 'unlocks');

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
