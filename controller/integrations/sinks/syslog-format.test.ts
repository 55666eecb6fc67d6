import { formatSyslogMessage, frameOctetCounted } from './syslog-format';
import type { AuditEvent } from './audit-event';

const event: AuditEvent = {
  format: 'fleetpass-audit-v1',
  source: 'ctl',
  seq: 7,
  time: '2026-12-02T07:01:02.345Z',
  hash: 'a'.repeat(64),
  prevHash: 'b'.repeat(64),
  actor: 'alice',
  action: 'request.created',
  nodeId: '',
  account: 'ilmnuser',
  operationId: '',
  requestId: 'r1',
  outcome: 'approved',
  reason: 'INC-1 "quoted"',
  detailsJson: '{"k":"ü"}',
  details: { k: 'ü' },
};

describe('RFC 5424 / RFC 5425 formatting', () => {
  it('writes PRI, version, timestamp, host, app, msgid, structured data and a BOM before the JSON', () => {
    const m = formatSyslogMessage(event, { facility: 'authpriv', hostname: 'ctl.example.org', enterpriseId: 32473 });
    // authpriv (10) * 8 + warning (4): the outcome is not "ok"
    expect(
      m.startsWith(
        `<84>1 2026-12-02T07:01:02.345Z ctl.example.org fleetpass - request.created [fleetpass@32473 seq="7" hash="${'a'.repeat(64)}" prevHash="${'b'.repeat(64)}" outcome="approved"] \uFEFF{`,
      ),
    ).toBe(true);
    expect(JSON.parse(m.slice(m.indexOf('\uFEFF') + 1))).toEqual(event);
    expect(
      formatSyslogMessage({ ...event, outcome: 'ok' }, { facility: 'local0', hostname: 'h', enterpriseId: 1 }),
    ).toMatch(/^<133>1 /);
  });

  it('escapes structured-data values and keeps header fields printable and short', () => {
    const m = formatSyslogMessage(
      { ...event, outcome: 'a"b]c\\d', action: `x y${'z'.repeat(40)}` },
      { facility: 'auth', hostname: 'host with space', enterpriseId: 32473 },
    );
    expect(m).toContain('outcome="a\\"b\\]c\\\\d"]');
    expect(m.split(' ')[2]).toBe('host_with_space');
    expect(m.split(' ')[5]).toBe(`x_y${'z'.repeat(29)}`);
  });

  it('frames with the length in bytes, not characters', () => {
    const msg = '<13>1 - - - - - - \uFEFFü';
    const frame = frameOctetCounted(msg);
    const len = Buffer.byteLength(msg, 'utf8');
    expect(frame.toString('utf8')).toBe(`${len} ${msg}`);
    expect(len).toBeGreaterThan(msg.length);
  });
});
