/** One HTTPS POST for the HTTP sinks: pinned CA, optional client certificate, a timeout, a bounded answer. */
import { request } from 'node:https';
import type { SinkTls } from '../material-files';

export interface HttpsAnswer {
  status: number;
  body: string;
}

const MAX_ANSWER_BYTES = 1024 * 1024;

export function httpsPost(
  url: URL,
  body: string,
  o: { tls: SinkTls; headers: Record<string, string>; timeoutMs: number; signal: AbortSignal },
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: o.tls.ca,
        cert: o.tls.cert,
        key: o.tls.key,
        rejectUnauthorized: true,
        timeout: o.timeoutMs,
        signal: o.signal,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...o.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${o.timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}
