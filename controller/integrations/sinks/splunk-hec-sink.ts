/**
 * Audit sink: Splunk HTTP Event Collector with indexer acknowledgement. A batch is POSTed to
 * /services/collector/event on this sink's channel (X-Splunk-Request-Channel); the answer's ackId is
 * then polled at /services/collector/ack until the indexer says it is indexed: only then does the batch
 * count as delivered. A batch whose ack has not come within ackTimeoutSeconds is sent again, and every
 * ack id it was given stays asked for, so an ack that arrives late still completes it.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { FleetpassError } from '../../../shared/errors';
import type { SplunkHecSinkConfig } from '../integrations-config';
import type { AuditEvent } from './audit-event';
import { httpsPost, type HttpsAnswer } from './https-post';
import type { AuditSink } from './sink';
import { loadSinkTls, readSecretFile } from '../material-files';

/** Ack ids asked about per batch at most (the oldest are dropped after many resends). */
const MAX_ACK_IDS = 16;

function parse(answer: HttpsAnswer): Record<string, unknown> {
  try {
    const v = JSON.parse(answer.body) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function createSplunkHecSink(c: SplunkHecSinkConfig, now: () => number = Date.now): AuditSink {
  const tls = loadSinkTls(c);
  const base = c.url.replace(/\/+$/, '');
  const channel = randomUUID();
  const headers = {
    authorization: `Splunk ${readSecretFile(`audit sink "${c.name}"`, 'tokenFile', c.tokenFile)}`,
    'x-splunk-request-channel': channel,
  };
  const timeoutMs = c.timeoutSeconds * 1000;
  const fail = (why: string, cause?: unknown, details: Record<string, unknown> = {}) =>
    new FleetpassError('FP_AUDIT_SINK_DELIVERY_FAILED', `audit sink "${c.name}": ${why}`, {
      cause,
      details: { sink: c.name, ...details },
    });

  async function post(path: string, body: string, signal: AbortSignal): Promise<Record<string, unknown>> {
    let answer: HttpsAnswer;
    try {
      answer = await httpsPost(new URL(`${base}${path}`), body, { tls, headers, timeoutMs, signal });
    } catch (e) {
      throw fail(`POST ${path} failed: ${(e as Error).message}`, e);
    }
    const json = parse(answer);
    if (answer.status !== 200)
      throw fail(`${path} answered ${answer.status} (${String(json.text ?? '').slice(0, 200)})`, undefined, {
        status: answer.status,
        hecCode: json.code,
      });
    return json;
  }

  async function send(body: string, signal: AbortSignal): Promise<number> {
    const json = await post('/services/collector/event', body, signal);
    if (typeof json.ackId !== 'number')
      throw fail('the HEC answer has no ackId: enable indexer acknowledgement on the HEC token');
    return json.ackId;
  }

  return {
    name: c.name,
    type: 'splunk-hec',
    async deliver(events: readonly AuditEvent[], signal: AbortSignal) {
      const body = events
        .map((e) =>
          JSON.stringify({
            time: Date.parse(e.time) / 1000,
            host: e.source,
            source: c.source,
            sourcetype: c.sourcetype,
            ...(c.index ? { index: c.index } : {}),
            event: e,
          }),
        )
        .join('\n');
      const ackIds = [await send(body, signal)];
      let sentAt = now();
      for (;;) {
        await sleep(c.ackPollSeconds * 1000, undefined, { signal }).catch(() => {
          throw fail('delivery stopped');
        });
        const acks = (await post('/services/collector/ack', JSON.stringify({ acks: ackIds }), signal)).acks as
          Record<string, unknown> | undefined;
        if (ackIds.some((id) => acks?.[String(id)] === true)) return;
        if (now() - sentAt >= c.ackTimeoutSeconds * 1000) {
          ackIds.push(await send(body, signal));
          if (ackIds.length > MAX_ACK_IDS) ackIds.shift();
          sentAt = now();
        }
      }
    },
    async close() {
      // no connection is kept
    },
  };
}
