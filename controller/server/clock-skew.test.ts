import { Writable } from 'node:stream';
import { createLogger } from '../../shared/logger';
import { createSkewWatch } from './clock-skew';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'info', name: 'skew-test', destination }) };
}

const now = new Date('2026-03-02T08:00:00Z');
const off = (s: number) => new Date(now.getTime() + s * 1000);

describe('createSkewWatch', () => {
  it('warns once when a node clock goes past the threshold either way, and says when it is back', () => {
    const { lines, log } = capture();
    const watch = createSkewWatch(log, 60);
    expect(watch.observe(off(5), now)).toBe(5000);
    expect(watch.observe(off(60), now)).toBe(60_000);
    expect(lines).toEqual([]);
    expect(watch.observe(off(-600), now)).toBe(-600_000);
    watch.observe(off(-601), now);
    watch.observe(off(-602), now);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'warn',
      msg: 'node clock skew; operation expiry is judged by the node clock',
      skewSeconds: -600,
      warnSeconds: 60,
      controllerTime: now.toISOString(),
    });
    watch.observe(off(2), now);
    expect(lines[1]).toMatchObject({ level: 'info', msg: 'node clock skew back within bounds', skewSeconds: 2 });
    watch.observe(off(3600), now);
    expect(lines[2]).toMatchObject({ level: 'warn', skewSeconds: 3600 });
    expect(lines).toHaveLength(3);
  });

  it('ignores a heartbeat without a usable time', () => {
    const { lines, log } = capture();
    const watch = createSkewWatch(log, 60);
    expect(watch.observe(undefined, now)).toBeUndefined();
    expect(watch.observe(new Date(0), now)).toBeUndefined();
    expect(watch.observe(new Date(NaN), now)).toBeUndefined();
    expect(lines).toEqual([]);
  });
});
