/**
 * Audit sink: JSON over HTTPS for any collector with an HTTP input (Logstash, Vector, Fluent Bit, a
 * SIEM's webhook). Each batch is one POST of a JSON array of events; any 2xx answer means the whole
 * batch was delivered, anything else (or no answer) means it is sent again.
 */
import { FleetpassError } from '../../../shared/errors';
import type { HttpsJsonSinkConfig } from '../integrations-config';
import type { AuditEvent } from './audit-event';
import { httpsPost } from './https-post';
import type { AuditSink } from './sink';
import { loadSinkTls, readSecretFile } from '../material-files';

export function createHttpsJsonSink(c: HttpsJsonSinkConfig): AuditSink {
  const tls = loadSinkTls(c);
  const url = new URL(c.url);
  const headers: Record<string, string> = { ...c.headers };
  if (c.bearerTokenFile)
    headers.authorization = `Bearer ${readSecretFile(`audit sink "${c.name}"`, 'bearerTokenFile', c.bearerTokenFile)}`;
  return {
    name: c.name,
    type: 'https-json',
    async deliver(events: readonly AuditEvent[], signal: AbortSignal) {
      let answer;
      try {
        answer = await httpsPost(url, JSON.stringify(events), {
          tls,
          headers,
          timeoutMs: c.timeoutSeconds * 1000,
          signal,
        });
      } catch (e) {
        throw new FleetpassError(
          'FP_AUDIT_SINK_DELIVERY_FAILED',
          `audit sink "${c.name}": POST ${url.origin}${url.pathname} failed: ${(e as Error).message}`,
          { cause: e, details: { sink: c.name } },
        );
      }
      if (answer.status < 200 || answer.status > 299) {
        throw new FleetpassError(
          'FP_AUDIT_SINK_DELIVERY_FAILED',
          `audit sink "${c.name}": ${url.origin}${url.pathname} answered ${answer.status}`,
          { details: { sink: c.name, status: answer.status } },
        );
      }
    },
    async close() {
      // no connection is kept (agent: false)
    },
  };
}
