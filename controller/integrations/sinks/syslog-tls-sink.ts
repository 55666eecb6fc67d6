/**
 * Audit sink: RFC 5424 syslog over TLS (RFC 5425, usually port 6514) to rsyslog, syslog-ng or a SIEM
 * collector, trusting only the configured CA. The transport has no acknowledgement, so a batch counts
 * as delivered when its bytes were handed to the socket and the connection then stayed up for
 * `confirmAfterMs` (a collector that stops or resets the connection makes the batch fail: it is sent
 * again on the next connection, the duplicates carrying the same seq).
 */
import { hostname as machineName } from 'node:os';
import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { FleetpassError } from '../../../shared/errors';
import type { SyslogSinkConfig } from '../integrations-config';
import type { AuditEvent } from './audit-event';
import type { AuditSink } from './sink';
import { formatSyslogMessage, frameOctetCounted, type SyslogFormat } from './syslog-format';
import { loadSinkTls } from '../material-files';

const CONNECT_TIMEOUT_MS = 10_000;

function failure(sink: string, why: string, cause?: unknown): FleetpassError {
  return new FleetpassError('FP_AUDIT_SINK_DELIVERY_FAILED', `audit sink "${sink}": ${why}`, {
    cause,
    details: { sink },
  });
}

export function createSyslogTlsSink(c: SyslogSinkConfig): AuditSink {
  const tls = loadSinkTls(c);
  const host = c.address.slice(0, c.address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  const port = Number(c.address.slice(c.address.lastIndexOf(':') + 1));
  const format: SyslogFormat = {
    facility: c.facility,
    hostname: c.hostname ?? machineName(),
    enterpriseId: c.enterpriseId,
  };
  let socket: TLSSocket | undefined;
  /** Why the current socket ended, for the batch waiting on it. */
  let ended: ((err: Error) => void) | undefined;

  function open(): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      const serverName = c.serverName ?? (isIP(host) ? undefined : host);
      // The certificate is checked against serverName when given (Node checks the SNI name), else the host.
      const s = connect({
        host,
        port,
        servername: serverName,
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        rejectUnauthorized: true,
      });
      const timer = setTimeout(
        () => s.destroy(failure(c.name, `no TLS connection to ${c.address} within ${CONNECT_TIMEOUT_MS / 1000} s`)),
        CONNECT_TIMEOUT_MS,
      );
      s.once('secureConnect', () => {
        clearTimeout(timer);
        s.setKeepAlive(true, 10_000);
        s.on('data', () => undefined); // collectors send nothing; drain whatever comes
        // Only the current connection's end fails the batch waiting on it; an old one closing late does not.
        const gone = (err?: Error) => {
          if (socket !== s) return;
          socket = undefined;
          ended?.(err ?? failure(c.name, `the collector at ${c.address} closed the connection`));
        };
        s.on('error', (err) => gone(failure(c.name, `connection to ${c.address} failed: ${err.message}`, err)));
        s.on('end', () => gone());
        s.on('close', () => gone());
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(
          err instanceof FleetpassError ? err : failure(c.name, `cannot connect to ${c.address}: ${err.message}`, err),
        );
      });
    });
  }

  async function deliver(events: readonly AuditEvent[], signal: AbortSignal): Promise<void> {
    socket ??= await open();
    const s = socket;
    await new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (err?: Error) => {
        clearTimeout(timer);
        ended = undefined;
        signal.removeEventListener('abort', onAbort);
        if (err) {
          if (socket === s) socket = undefined;
          s.destroy();
          reject(err);
        } else resolve();
      };
      const onAbort = () => done(failure(c.name, 'delivery stopped'));
      ended = done;
      signal.addEventListener('abort', onAbort, { once: true });
      if (s.destroyed) return done(failure(c.name, `the connection to ${c.address} is closed`));
      const payload = Buffer.concat(events.map((e) => frameOctetCounted(formatSyslogMessage(e, format))));
      s.write(payload, (err) => {
        if (err) return done(failure(c.name, `writing to ${c.address} failed: ${err.message}`, err));
        timer = setTimeout(() => done(), c.confirmAfterMs);
      });
    });
  }

  return {
    name: c.name,
    type: 'syslog',
    deliver,
    async close() {
      const s = socket;
      socket = undefined;
      if (s && !s.destroyed) await new Promise<void>((r) => s.end(() => r()));
      s?.destroy();
    },
  };
}
