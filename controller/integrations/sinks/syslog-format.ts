/**
 * One audit event as an RFC 5424 syslog message, framed for TLS transport by octet counting (RFC 5425
 * section 4.3: "MSG-LEN SP SYSLOG-MSG", the length in bytes). The structured data carries seq, hash and
 * previous hash so a collector can index and de-duplicate without parsing the message; the message is
 * the event as JSON, after a BOM (RFC 5424 section 6.4: UTF-8 content).
 */
import type { SyslogFacility } from '../integrations-config';
import type { AuditEvent } from './audit-event';

const FACILITY_CODES: Record<SyslogFacility, number> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};
const NOTICE = 5;
const WARNING = 4;
const BOM = '\uFEFF';

export interface SyslogFormat {
  facility: SyslogFacility;
  hostname: string;
  enterpriseId: number;
}

/** PRINTUSASCII only, at most `max` characters, "-" when empty (the NILVALUE). */
function headerField(v: string, max: number): string {
  const clean = v.replace(/[^!-~]/g, '_').slice(0, max);
  return clean || '-';
}

/** RFC 5424 section 6.3.3: '"', '\' and ']' are escaped in a PARAM-VALUE. */
function paramValue(v: string): string {
  return v.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** The SYSLOG-MSG for one event. */
export function formatSyslogMessage(e: AuditEvent, f: SyslogFormat): string {
  const severity = e.outcome === 'ok' || e.outcome === 'succeeded' || e.outcome === '' ? NOTICE : WARNING;
  const pri = FACILITY_CODES[f.facility] * 8 + severity;
  const sd = `[fleetpass@${f.enterpriseId} seq="${e.seq}" hash="${e.hash}" prevHash="${e.prevHash}" outcome="${paramValue(e.outcome)}"]`;
  return `<${pri}>1 ${e.time} ${headerField(f.hostname, 255)} fleetpass - ${headerField(e.action, 32)} ${sd} ${BOM}${JSON.stringify(e)}`;
}

/** The octet-counted frame (RFC 5425) for one message. */
export function frameOctetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
