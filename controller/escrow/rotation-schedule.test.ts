import { nextRotation, retryDelayMs, scheduledRotation, spreadOffsetMs } from './rotation-schedule';

const at = (y: number, mo: number, d: number, h = 0, mi = 0) => new Date(y, mo - 1, d, h, mi);
const key = (i: number) => ({ nodeId: `nextseq-${i}`, backend: 1, account: 'root' });

describe('rotation schedule', () => {
  it('spreads a fleet over the window, the same account always in the same slot', () => {
    const offsets = Array.from({ length: 500 }, (_, i) => spreadOffsetMs(key(i), 86_400));
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...offsets)).toBeLessThan(86_400_000);
    // 500 accounts over 24 hours: every 4-hour slice gets some, none gets most.
    const slices = Array.from({ length: 6 }, (_, s) => offsets.filter((o) => Math.floor(o / 14_400_000) === s).length);
    for (const n of slices) expect(n).toBeGreaterThan(40);
    expect(spreadOffsetMs(key(7), 86_400)).toBe(offsets[7]);
    expect(spreadOffsetMs(key(7), 0)).toBe(0);
  });

  it('puts the rotation in the first window that opens after the password was set', () => {
    const off = spreadOffsetMs(key(1), 3600);
    expect(scheduledRotation('0 2 1 * *', 3600, key(1), at(2026, 3, 1, 2, 30))!.getTime()).toBe(
      at(2026, 4, 1, 2, 0).getTime() + off,
    );
    expect(scheduledRotation('0 2 1 * *', 3600, key(1), at(2026, 3, 1, 1, 59))!.getTime()).toBe(
      at(2026, 3, 1, 2, 0).getTime() + off,
    );
    expect(scheduledRotation(undefined, 3600, key(1), at(2026, 3, 1))).toBeUndefined();
  });

  it('takes the earlier of schedule and demand, never before a back-off', () => {
    const s = at(2026, 4, 1);
    const d = at(2026, 3, 5);
    expect(nextRotation({ scheduled: s, demanded: d })).toEqual({ at: d, why: 'demand' });
    expect(nextRotation({ scheduled: d, demanded: s })).toEqual({ at: d, why: 'schedule' });
    expect(nextRotation({ scheduled: d, notBefore: s })).toEqual({ at: s, why: 'schedule' });
    expect(nextRotation({ notBefore: s })).toBeUndefined();
  });

  it('backs off exponentially up to the maximum', () => {
    const retry = { baseSeconds: 900, maxSeconds: 86_400 };
    expect([1, 2, 3, 4, 10, 100].map((n) => retryDelayMs(n, retry) / 1000)).toEqual([
      900, 1800, 3600, 7200, 86_400, 86_400,
    ]);
  });
});
