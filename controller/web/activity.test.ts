import { Action, AccountState, Backend } from '../../shared/gen/fleetpass/v1/common';
import { computeActivity } from './activity';

const DAY = 86_400_000;
const now = new Date('2026-03-10T15:00:00Z');
const at = (daysAgo: number, hour = 9) => new Date(Date.UTC(2026, 2, 10 - daysAgo, hour));

function state(locked: boolean, lastFailure?: Date): AccountState {
  return AccountState.fromPartial({ backend: Backend.BACKEND_LINUX, account: 'ilmnuser', exists: true, locked, lastFailure });
}

/** A fake controller service: two nodes at two sites, history newest first (as the store returns it). */
function service(histories: Record<string, Array<{ state: AccountState; observed: string }>>, succeeded: Array<{ nodeId: string; time: Date; action: Action }>) {
  const nodes = [
    { id: 'a', hostname: 'a.lab', labels: { site: 'bldg4' } },
    { id: 'b', hostname: 'b.lab', labels: {} },
  ];
  return {
    listNodes: () => nodes as never,
    listAccounts: () => nodes.map((n) => ({ node: n, account: { state: state(false) } })) as never,
    accountHistory: (nodeId: string) => [...(histories[nodeId] ?? [])].reverse().map((h) => ({ ...h, source: 'report' })),
    queryAudit: ({ afterSeq = 0 }: { afterSeq?: number } = {}) => {
      const records = succeeded.map((s, i) => ({ seq: i + 1, time: s.time.toISOString(), nodeId: s.nodeId, operationId: `op-${i}` })).filter((r) => r.seq > afterSeq);
      // Two records per page, to exercise the paging.
      return { records: records.slice(0, 2), nextCursor: records.length > 2 ? records[1].seq : 0 } as never;
    },
    getOperation: (id: string) => ({ action: succeeded[Number(id.slice(3))].action }) as never,
  };
}

describe('computeActivity', () => {
  it('counts each lock that begins (dated by the last failure) per site and UTC day, and resets and unlocks from the audit', () => {
    const svc = service(
      {
        a: [
          { state: state(false), observed: at(6).toISOString() },
          { state: state(true, at(5, 8)), observed: at(5, 9).toISOString() },
          { state: state(true, at(5, 8)), observed: at(5, 10).toISOString() }, // still locked: not a new lockout
          { state: state(false), observed: at(5, 11).toISOString() },
          { state: state(true, at(0, 7)), observed: at(0, 8).toISOString() },
        ],
        b: [{ state: state(true, at(40)), observed: at(40).toISOString() }], // outside the window
      },
      [
        { nodeId: 'a', time: at(5, 11), action: Action.ACTION_RESET_PASSWORD },
        { nodeId: 'b', time: at(1), action: Action.ACTION_UNLOCK },
        { nodeId: 'a', time: at(0, 12), action: Action.ACTION_UNLOCK },
        { nodeId: 'a', time: new Date(at(13).getTime() - DAY), action: Action.ACTION_RESET_PASSWORD }, // before the window
      ],
    );
    const r = computeActivity(svc, now, 7);
    expect(r.days).toEqual(['2026-03-04', '2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10']);
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
  });

  it('returns empty series for a quiet fleet', () => {
    const r = computeActivity(service({}, []), now, 3);
    expect(r).toEqual({ days: ['2026-03-08', '2026-03-09', '2026-03-10'], sites: [], topNodes: [] });
  });
});
