/**
 * HTTPS to Local Run Manager with explicit certificate trust: a CA file, a pinned SHA-256 fingerprint of
 * LRM's self-signed certificate, or (warned) insecure. The TLS check runs before the socket is handed to
 * the HTTP request, so nothing — above all not the service credential — is sent to an untrusted peer.
 */
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { isIP } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import { FleetpassError } from '../../../shared/errors';
import { formatFingerprint, normalizeFingerprint } from '../../../shared/pki/fingerprint';

export interface TransportOptions {
  baseUrl: string;
  tls: { caFile?: string; fingerprint?: string; insecure: boolean };
  timeoutMs: number;
}

export interface HttpRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Sent as the body; may hold a secret, so it is never logged or put in an error. */
  body?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface LrmTransport {
  readonly origin: string;
  send(req: HttpRequest): Promise<HttpResponse>;
}

const MAX_BODY_BYTES = 1024 * 1024;

/** Creates the transport; reads the CA file now so a bad path fails at start, not at the first unlock. */
export function createLrmTransport(options: TransportOptions): LrmTransport {
  const url = new URL(options.baseUrl);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : 443;
  const basePath = url.pathname.replace(/\/$/, '');
  let ca: string | undefined;
  if (options.tls.caFile) {
    try {
      ca = readFileSync(options.tls.caFile, 'utf8');
    } catch (e) {
      throw new FleetpassError(
        'FP_CONFIG_UNREADABLE',
        `cannot read lrm.tls.caFile ${options.tls.caFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
        {
          details: { key: 'lrm.tls.caFile' },
        },
      );
    }
  }
  const pin = options.tls.fingerprint ? normalizeFingerprint(options.tls.fingerprint) : undefined;

  /** Opens TLS and checks trust; calls back with the socket only when the peer is trusted. */
  function connectTrusted(callback: (err: Error | null, socket?: Duplex) => void): TLSSocket {
    let settled = false;
    const socket: TLSSocket = tlsConnect({
      host,
      port,
      servername: isIP(host) ? undefined : host,
      ca,
      // Trust is decided below, in one place, before any byte of the request is written.
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      callback(err);
    };
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      const presented = socket.getPeerCertificate()?.fingerprint256;
      const presentedFp = presented ? formatFingerprint(presented) : undefined;
      let problem: string | undefined;
      if (pin) {
        if (presentedFp !== pin) problem = 'its fingerprint is not the pinned lrm.tls.fingerprint';
      } else if (!options.tls.insecure && !socket.authorized) {
        problem = `${String(socket.authorizationError ?? 'not verified')}${ca ? ' against lrm.tls.caFile' : ' against the system CAs (set lrm.tls.caFile or lrm.tls.fingerprint)'}`;
      }
      if (problem) {
        fail(
          new FleetpassError(
            'FP_LRM_TLS_UNTRUSTED',
            `the certificate of Local Run Manager at ${url.origin} is not trusted: ${problem} (it presented ${presentedFp ?? 'no certificate'}); nothing was sent`,
            {
              details: { presentedFingerprint: presentedFp, origin: url.origin },
            },
          ),
        );
        return;
      }
      settled = true;
      socket.removeListener('error', fail);
      callback(null, socket);
    });
    return socket;
  }

  function send(req: HttpRequest): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      let done = false;
      let written = false;
      // Kept so a timeout also ends a connection whose TLS handshake never finishes.
      let socket: TLSSocket | undefined;
      const finish = (err: Error | null, res?: HttpResponse) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(res as HttpResponse);
      };
      const headers: Record<string, string> = { accept: 'application/json, text/html;q=0.9', ...req.headers };
      if (req.body !== undefined) {
        headers['content-type'] ??= 'application/json';
        headers['content-length'] = String(Buffer.byteLength(req.body));
      }
      const r = httpsRequest({
        method: req.method,
        host,
        port,
        path: `${basePath}${req.path}`,
        headers,
        createConnection: (_opts: unknown, cb: (err: Error | null, socket?: Duplex) => void) => {
          socket = connectTrusted(cb);
          return undefined;
        },
      } as unknown as RequestOptions);
      const timer = setTimeout(() => {
        r.destroy();
        socket?.destroy();
        finish(
          new FleetpassError(
            'FP_LRM_UNREACHABLE',
            `Local Run Manager at ${url.origin} did not answer ${req.method} ${req.path} within ${options.timeoutMs} ms`,
            {
              details: { timedOut: true, requestSent: written, origin: url.origin },
            },
          ),
        );
      }, options.timeoutMs);
      r.once('finish', () => {
        written = true;
      });
      r.once('error', (e: Error) => finish(networkError(e, url.origin, req, written)));
      r.once('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES) {
            res.destroy();
            finish(
              new FleetpassError(
                'FP_LRM_UNEXPECTED_RESPONSE',
                `Local Run Manager sent more than ${MAX_BODY_BYTES} bytes for ${req.method} ${req.path}`,
              ),
            );
            return;
          }
          chunks.push(c);
        });
        res.once('error', (e: Error) => finish(networkError(e, url.origin, req, true)));
        res.once('end', () =>
          finish(null, {
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      });
      r.end(req.body);
    });
  }

  return { origin: url.origin, send };
}

/** Maps socket errors to FP_LRM_UNREACHABLE; TLS trust errors pass through unchanged. */
function networkError(e: Error, origin: string, req: HttpRequest, requestSent: boolean): FleetpassError {
  if (e instanceof FleetpassError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? 'error';
  const why =
    code === 'ECONNREFUSED'
      ? 'connection refused (is Local Run Manager running?)'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'host name not found'
        : code === 'ECONNRESET'
          ? 'connection reset'
          : code;
  // The cause keeps the socket error for the log; the request body is not part of it.
  return new FleetpassError(
    'FP_LRM_UNREACHABLE',
    `Local Run Manager at ${origin} cannot be reached for ${req.method} ${req.path}: ${why}`,
    {
      cause: e,
      details: { errno: code, requestSent, origin },
    },
  );
}
