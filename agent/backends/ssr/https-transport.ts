/**
 * HTTPS to the SSR REST API with the configured trust: a CA file, a pinned certificate fingerprint (checked
 * before a single byte of the request is sent), or, with a warning at config time, none. Transport failures
 * become FP_SSR_UNREACHABLE or FP_SSR_TLS_UNTRUSTED; HTTP statuses are the caller's to judge.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { FleetpassError } from '../../../shared/errors';
import { peerFingerprint } from '../../../shared/pki';
import { normalizeFingerprint } from '../../../shared/pki/fingerprint';
import type { SsrBackendConfig } from './config';

const MAX_BODY_BYTES = 1024 * 1024;
const TLS_TRUST_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|HOSTNAME/;

export interface HttpResponse {
  readonly status: number;
  /** Parsed JSON, or undefined when the body is empty or not JSON. */
  readonly body: unknown;
}

export interface HttpsTransport {
  request(method: string, path: string, options?: { token?: string; json?: unknown }): Promise<HttpResponse>;
  /** Drops pooled sockets. */
  close(): void;
}

type ConnectCallback = (err: Error | null, socket?: Duplex) => void;

function pinnedConnection(pin: string) {
  // The Agent calls this and waits for the callback, so the request is written only to a verified socket.
  return (options: tls.ConnectionOptions, callback: ConnectCallback): undefined => {
    let done = false;
    const finish = (err: Error | null, socket?: Duplex) => {
      if (done) return;
      done = true;
      callback(err, socket);
    };
    const socket = tls.connect({ ...options, rejectUnauthorized: false });
    socket.once('error', (e) => finish(e));
    socket.once('secureConnect', () => {
      const seen = peerFingerprint(socket.getPeerCertificate());
      if (seen !== pin) {
        socket.destroy();
        finish(
          new FleetpassError(
            'FP_SSR_TLS_UNTRUSTED',
            `the SSR REST API presented a certificate whose fingerprint ${seen ?? '(none)'} is not the pinned ssr.tls.fingerprint; nothing was sent`,
            { details: { key: 'ssr.tls.fingerprint' } },
          ),
        );
        return;
      }
      finish(null, socket);
    });
    return undefined;
  };
}

function createAgent(config: SsrBackendConfig): https.Agent {
  const { caFile, fingerprint, insecure, serverName } = config.tls;
  if (fingerprint) {
    const agent = new https.Agent({ keepAlive: false });
    (agent as unknown as { createConnection: unknown }).createConnection = pinnedConnection(
      normalizeFingerprint(fingerprint),
    );
    return agent;
  }
  if (caFile) {
    let ca: Buffer;
    try {
      ca = readFileSync(caFile);
    } catch (e) {
      throw new FleetpassError(
        'FP_CONFIG_UNREADABLE',
        `cannot read ssr.tls.caFile ${caFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
        { details: { key: 'ssr.tls.caFile' } },
      );
    }
    return new https.Agent({ keepAlive: false, ca, ...(serverName ? { servername: serverName } : {}) });
  }
  return new https.Agent({ keepAlive: false, rejectUnauthorized: !insecure });
}

function transportError(e: unknown, baseUrl: string): FleetpassError {
  if (e instanceof FleetpassError) return e;
  const code = String((e as NodeJS.ErrnoException)?.code ?? '');
  if (TLS_TRUST_ERROR.test(code)) {
    return new FleetpassError(
      'FP_SSR_TLS_UNTRUSTED',
      `the SSR REST API's certificate at ${baseUrl} is not trusted (${code}); nothing was sent`,
      { cause: e, details: { tlsError: code } },
    );
  }
  return new FleetpassError(
    'FP_SSR_UNREACHABLE',
    `the SSR REST API at ${baseUrl} does not answer (${code || 'connection closed'})`,
    { cause: e, details: { networkError: code } },
  );
}

function parseBody(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** Creates the transport; throws FP_CONFIG_UNREADABLE when the CA file cannot be read. */
export function createHttpsTransport(config: SsrBackendConfig): HttpsTransport {
  const agent = createAgent(config);
  const base = new URL(config.baseUrl);

  function request(
    method: string,
    path: string,
    options: { token?: string; json?: unknown } = {},
  ): Promise<HttpResponse> {
    const payload = options.json === undefined ? undefined : Buffer.from(JSON.stringify(options.json));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      // Why we cut the request ourselves, if we did: it beats whatever the socket reports afterwards.
      let cutReason: FleetpassError | undefined;
      const cut = (reason: FleetpassError) => {
        cutReason = reason;
        req.destroy(reason);
      };
      const fail = (e: unknown) => settle(() => reject(transportError(cutReason ?? e, config.baseUrl)));
      const req = https.request(new URL(path, base), { method, agent, headers });
      const timer = setTimeout(() => {
        cut(
          new FleetpassError(
            'FP_SSR_UNREACHABLE',
            `the SSR REST API at ${config.baseUrl} did not answer within ${config.timeoutMs} ms`,
            { details: { key: 'ssr.timeoutMs' } },
          ),
        );
      }, config.timeoutMs);
      req.once('error', fail);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES)
            cut(new FleetpassError('FP_SSR_UNEXPECTED_RESPONSE', 'the SSR REST API sent an answer larger than 1 MiB'));
          else chunks.push(c);
        });
        res.once('end', () =>
          settle(() =>
            resolve({ status: res.statusCode ?? 0, body: parseBody(Buffer.concat(chunks).toString('utf8')) }),
          ),
        );
        res.once('error', fail);
        // A connection cut in the middle of the answer ends here without 'end'.
        res.once('close', () => fail(new Error('the connection closed before the answer was complete')));
      });
      req.end(payload);
    });
  }

  return { request, close: () => agent.destroy() };
}
