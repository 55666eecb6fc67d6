/** The console's pure browser-side logic (no DOM): lock timers, relative times, chart geometry. */
import { barGeometry, niceCeiling } from '../../controller/web/ui/chart-geometry';
import { ago, timeLeft } from '../../controller/web/ui/format';

describe('timeLeft', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const plus = (ms: number) => new Date(now + ms).toISOString();
  it('counts down a lock and names one that never ends by itself', () => {
    expect(timeLeft(plus(598_200), false, now)).toBe('9m 59s');
    expect(timeLeft(plus(42_000), false, now)).toBe('42s');
    expect(timeLeft(plus(2 * 3_600_000 + 5 * 60_000), false, now)).toBe('2h 05m');
    expect(timeLeft(plus(3 * 86_400_000 + 3_600_000), false, now)).toBe('3d 1h');
    expect(timeLeft(plus(-1000), false, now)).toBe('ending now');
    expect(timeLeft(null, true, now)).toBe('until unlocked');
    expect(timeLeft(plus(60_000), true, now)).toBe('until unlocked');
  });
  it('says how long ago', () => {
    expect(ago(new Date(now - 10_000).toISOString(), now)).toBe('just now');
    expect(ago(new Date(now - 5 * 60_000).toISOString(), now)).toBe('5 min ago');
    expect(ago(null, now)).toBe('never');
  });
});

describe('barGeometry', () => {
  it('rounds the scale up and places grouped bars inside the plot, skipping zeros', () => {
    expect([0, 1, 3, 7, 12, 99, 101].map(niceCeiling)).toEqual([1, 1, 5, 10, 20, 100, 200]);
    const g = barGeometry(
      [
        [0, 4, 1],
        [2, 0, 0],
      ],
      300,
      100,
    );
    expect(g.max).toBe(5);
    expect(g.bars.map((b) => [b.series, b.day, b.value])).toEqual([
      [0, 1, 4],
      [0, 2, 1],
      [1, 0, 2],
    ]);
    const bottom = g.plot.top + g.plot.height;
    for (const b of g.bars) {
      expect(b.y + b.height).toBeCloseTo(bottom);
      expect(b.x).toBeGreaterThanOrEqual(g.plot.left);
      expect(b.x + b.width).toBeLessThanOrEqual(g.plot.left + g.plot.width);
    }
    const four = g.bars.find((b) => b.value === 4)!;
    expect(four.height).toBeCloseTo((4 / 5) * g.plot.height);
    // A shared maximum puts every site on the same scale.
    expect(barGeometry([[1]], 300, 100, 20).max).toBe(20);
  });
});
