/**
 * Finds the controller's CA without trusting anything up front: one TLS handshake with verification
 * off, and no data sent, reads the chain the controller presents (its server certificate and the CA);
 * the CA must hash to the fingerprint the operator pinned and must have signed a server certificate that is
 * valid now for the name dialled. Only then is the enrollment call made, over a connection that trusts
 * exactly that CA, so the token never reaches an impostor.
 */
import { X509Certificate } from 'node:crypto';
import { connect, type DetailedPeerCertificate } from 'node:tls';
import { FleetpassError } from '../../shared/errors';
import { PREFIXED_SHA256_FINGERPRINT, formatFingerprint, normalizeFingerprint } from '../../shared/pki/fingerprint';

/** "sha256:<64 lower-case hex>" from what an operator passes as --ca-fingerprint (colons, upper case allowed); throws FP_INVALID_ARGUMENT otherwise. */
export function parsePinnedFingerprint(fp: string): string {
  const text = fp.trim();
  if (!PREFIXED_SHA256_FINGERPRINT.test(text))
    throw new FleetpassError(
      'FP_INVALID_ARGUMENT',
      '--ca-fingerprint must be sha256: followed by 64 hex digits (as the controller prints it)',
    );
  return normalizeFingerprint(text);
}

/** host and port of "host:port" / "[v6]:port". */
export function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const port = Number(address.slice(i + 1));
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  if (i <= 0 || !host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new FleetpassError(
      'FP_INVALID_ARGUMENT',
      `the controller address ${JSON.stringify(address.slice(0, 100))} must be HOST:PORT, e.g. fleetpass.example.org:7443`,
    );
  }
  return { host, port };
}

/** The server's certificate and the issuers above it that it presented (Node links only real issuers), leaf first. */
function presentedChain(leaf: DetailedPeerCertificate): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  let c: DetailedPeerCertificate | undefined = leaf;
  while (c?.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(new X509Certificate(c.raw));
    c = c.issuerCertificate;
  }
  return out;
}

/** One handshake, nothing sent: the presented chain. */
function handshake(
  host: string,
  port: number,
  servername: string | undefined,
  timeoutMs: number,
): Promise<X509Certificate[]> {
  return new Promise((resolve, reject) => {
    const isIp = /^[\d.]+$|:/.test(host);
    const socket = connect({
      host,
      port,
      servername: servername ?? (isIp ? undefined : host),
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new FleetpassError(
          'FP_UNAVAILABLE',
          `the controller at ${host}:${port} did not complete a TLS handshake within ${timeoutMs / 1000} seconds`,
        ),
      );
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      let chain: X509Certificate[];
      try {
        chain = presentedChain(socket.getPeerCertificate(true));
      } catch (e) {
        socket.destroy();
        reject(
          new FleetpassError(
            'FP_CONTROLLER_CERT_INVALID',
            'the controller presented a certificate that cannot be read',
            { cause: e },
          ),
        );
        return;
      }
      socket.destroy();
      resolve(chain);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new FleetpassError('FP_UNAVAILABLE', `cannot reach the controller at ${host}:${port}: ${e.code ?? e.message}`, {
          cause: e,
        }),
      );
    });
  });
}

/**
 * The PEM of the controller CA whose fingerprint is `pinned`, after checking that it signed the server
 * certificate presented for `host`. Throws FP_CA_FINGERPRINT_MISMATCH or FP_CONTROLLER_CERT_INVALID.
 */
export async function fetchPinnedCa(opts: {
  address: string;
  pinned: string;
  serverName?: string;
  timeoutMs?: number;
}): Promise<string> {
  const { host, port } = splitAddress(opts.address);
  const pinned = parsePinnedFingerprint(opts.pinned);
  const chain = await handshake(host, port, opts.serverName, opts.timeoutMs ?? 15_000);
  const leaf = chain[0];
  if (!leaf)
    throw new FleetpassError(
      'FP_CONTROLLER_CERT_INVALID',
      `the controller at ${opts.address} presented no certificate`,
    );
  const ca = chain.slice(1).find((c) => formatFingerprint(c.fingerprint256) === pinned);
  if (!ca) {
    const seen = chain.slice(1).map((c) => formatFingerprint(c.fingerprint256));
    throw new FleetpassError(
      'FP_CA_FINGERPRINT_MISMATCH',
      `the controller at ${opts.address} presented ${seen.length ? `CA ${seen.join(', ')}` : 'no CA certificate that signed its server certificate'}, not the pinned ${pinned}; nothing was sent to it`,
      { details: { presented: seen, pinned } },
    );
  }
  if (!ca.ca || !leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) {
    throw new FleetpassError(
      'FP_CONTROLLER_CERT_INVALID',
      `the server certificate of ${opts.address} was not signed by the pinned CA; nothing was sent to it`,
    );
  }
  const now = Date.now();
  if (new Date(leaf.validFrom).getTime() > now || new Date(leaf.validTo).getTime() <= now) {
    throw new FleetpassError(
      'FP_CONTROLLER_CERT_INVALID',
      `the server certificate of ${opts.address} is not valid now (valid ${leaf.validFrom} to ${leaf.validTo}); check the clocks; nothing was sent`,
    );
  }
  const name = opts.serverName ?? host;
  const matches = /^[\d.]+$|:/.test(name) ? leaf.checkIP(name) : leaf.checkHost(name);
  if (!matches) {
    throw new FleetpassError(
      'FP_CONTROLLER_CERT_INVALID',
      `the controller's certificate is not valid for ${name} (it names ${leaf.subjectAltName ?? 'nothing'}); add ${name} to the controller's tls.hosts or dial a listed name; nothing was sent`,
    );
  }
  return ca.toString();
}
