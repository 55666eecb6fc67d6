import { fullJitterDelay } from './backoff';

describe('full-jitter backoff', () => {
  it('draws between 0 and the capped exponential', () => {
    const o = { initialMs: 100, maxMs: 1000 };
    expect([0, 1, 2, 3, 4, 10].map((a) => fullJitterDelay(a, { ...o, random: () => 0.999999 }))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(fullJitterDelay(5, { ...o, random: () => 0 })).toBe(0);
  });

  it('spreads a fleet: many draws for one attempt are not all equal', () => {
    const draws = new Set(Array.from({ length: 50 }, () => fullJitterDelay(3, { initialMs: 100, maxMs: 10_000 })));
    expect(draws.size).toBeGreaterThan(10);
    for (const d of draws) expect(d).toBeLessThan(800);
  });

  it('does not overflow on a very long outage', () => {
    expect(fullJitterDelay(5000, { initialMs: 1000, maxMs: 60_000, random: () => 0.5 })).toBe(30_000);
  });
});
