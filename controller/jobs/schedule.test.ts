import { isPlainCron, nextCronTime } from './schedule';

// Local-time constructors keep these independent of the host's time zone, as node-cron is.
const at = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) => new Date(y, mo - 1, d, h, mi, s);

describe('nextCronTime', () => {
  it('finds the next minute, strictly after the given time', () => {
    expect(nextCronTime('* * * * *', at(2026, 3, 10, 12, 0, 0))).toEqual(at(2026, 3, 10, 12, 1));
    expect(nextCronTime('* * * * *', at(2026, 3, 10, 12, 0, 30))).toEqual(at(2026, 3, 10, 12, 1));
    expect(nextCronTime('*/15 * * * *', at(2026, 3, 10, 12, 14, 59))).toEqual(at(2026, 3, 10, 12, 15));
  });

  it('crosses days, months and years', () => {
    expect(nextCronTime('0 2 1 * *', at(2026, 3, 1, 2, 0))).toEqual(at(2026, 4, 1, 2, 0));
    expect(nextCronTime('0 2 1 * *', at(2026, 12, 15))).toEqual(at(2027, 1, 1, 2, 0));
    expect(nextCronTime('30 4 29 2 *', at(2026, 3, 1))).toEqual(at(2028, 2, 29, 4, 30));
  });

  it('needs the day of month and the weekday to match (node-cron semantics)', () => {
    // The first Monday that is also one of days 1-7, from Tuesday 2026-03-03.
    expect(nextCronTime('0 0 1-7 * mon', at(2026, 3, 3))).toEqual(at(2026, 4, 6));
    expect(nextCronTime('0 0 * * 7', at(2026, 3, 3))).toEqual(at(2026, 3, 8));
  });

  it('refuses what it cannot compute', () => {
    expect(isPlainCron('0 0 L * *')).toBe(false);
    expect(isPlainCron('*/5 * * * * *')).toBe(false);
    expect(isPlainCron('not cron')).toBe(false);
    expect(isPlainCron('@daily')).toBe(true);
    expect(nextCronTime('0 0 L * *', at(2026, 1, 1))).toBeUndefined();
    expect(nextCronTime('0 0 31 2 *', at(2026, 1, 1))).toBeUndefined();
  });
});
