import { createNodeLimiter } from './node-limits';

function manualTime() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('node limits', () => {
  it('lets a node open its streams, refuses past the limit (first refusal flagged once) until the window ends', () => {
    const time = manualTime();
    const l = createNodeLimiter({ connectsPerWindow: 3, windowSeconds: 10 }, time.now);
    expect([1, 2, 3, 4, 5].map(() => l.connect('n1'))).toEqual(['ok', 'ok', 'ok', 'first', 'limited']);
    expect(l.connect('n2')).toBe('ok');
    time.advance(10_000);
    expect(l.connect('n1')).toBe('ok');
  });

  it('cuts a node off after too many rejected results, and that also refuses its next streams', () => {
    const l = createNodeLimiter({ rejectedResultsPerWindow: 2 }, manualTime().now);
    expect([l.rejectedResult('n'), l.rejectedResult('n'), l.rejectedResult('n')]).toEqual(['ok', 'ok', 'first']);
    expect(l.connect('n')).toBe('limited');
  });

  it('gives each stream a burst, then a steady rate', () => {
    const time = manualTime();
    const l = createNodeLimiter({ messageBurst: 5, messagesPerSecond: 2 }, time.now);
    const b = l.bucket();
    expect(Array.from({ length: 6 }, () => b.take())).toEqual([true, true, true, true, true, false]);
    time.advance(500);
    expect([b.take(), b.take()]).toEqual([true, false]);
    time.advance(60_000);
    expect(Array.from({ length: 6 }, () => b.take()).filter(Boolean)).toHaveLength(5);
  });

  it('forgets the oldest node past maxNodes', () => {
    const l = createNodeLimiter({ connectsPerWindow: 1, maxNodes: 2 }, manualTime().now);
    l.connect('a');
    expect(l.connect('a')).toBe('first');
    l.connect('b');
    l.connect('c');
    expect(l.connect('a')).toBe('ok');
  });
});
