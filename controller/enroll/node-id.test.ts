import { fakeClock } from '../../shared/clock';
import { nodeIdFromHostname, nodeIdProblem } from './node-id';
import { createRateLimiter } from './rate-limit';

describe('node ids', () => {
  it('accepts DNS-like lower-case ids and explains the rest', () => {
    for (const ok of ['nx-1', 'nextseq-01.lab.example.org', 'a', '9']) expect(nodeIdProblem(ok)).toBeUndefined();
    expect(nodeIdProblem('')).toMatch(/empty/);
    expect(nodeIdProblem('a'.repeat(64))).toMatch(/longer than 63/);
    for (const bad of ['NX-1', '-nx', 'nx-', 'nx_1', 'nx 1', 'CN=evil', 'a/b'])
      expect(nodeIdProblem(bad)).toMatch(/may hold only/);
  });

  it('derives one from a hostname, or says to name the node', () => {
    expect(nodeIdFromHostname('NextSeq-01.Lab.Example.ORG')).toBe('nextseq-01.lab.example.org');
    expect(nodeIdFromHostname(' lab pc_7 ')).toBe('lab-pc-7');
    expect(nodeIdFromHostname(`${'x'.repeat(70)}`)).toBe('x'.repeat(63));
    expect(() => nodeIdFromHostname('___')).toThrow(expect.objectContaining({ code: 'FP_NODE_ID_INVALID' }));
    expect(() => nodeIdFromHostname('')).toThrow(/--node-id/);
  });
});

describe('rate limiter', () => {
  it('blocks a key after the limit within the window, reports the hit that tripped it, and forgets after the window', () => {
    const clock = fakeClock();
    const l = createRateLimiter({ maxFailures: 3, windowSeconds: 60, clock });
    expect([l.hit('a'), l.hit('a'), l.blocked('a'), l.hit('a'), l.blocked('a'), l.hit('a')]).toEqual([
      false,
      false,
      false,
      true,
      true,
      false,
    ]);
    expect(l.blocked('b')).toBe(false);
    clock.advance(60_000);
    expect(l.blocked('a')).toBe(false);
  });

  it('stays bounded in memory', () => {
    const clock = fakeClock();
    const l = createRateLimiter({ maxFailures: 2, windowSeconds: 60, clock, maxKeys: 3 });
    for (const k of ['a', 'b', 'c', 'd']) l.hit(k);
    l.hit('d');
    expect(l.blocked('d')).toBe(true);
    l.hit('a'); // 'a' was dropped to make room, so this is its first failure again
    expect(l.blocked('a')).toBe(false);
  });
});
