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

const FINGERPRINT = /^sha256:((?:[0-9a-f]{2}:?){31}[0-9a-f]{2})$/i;

/** "sha256:<64 lower-case hex>" from the forms operators paste (colons and upper case allowed). */
export function normalizeFingerprint(fp: string): string {
  const m = FINGERPRINT.exec(fp.trim());
  if (!m) throw new FleetpassError('FP_INVALID_ARGUMENT', '--ca-fingerprint must be sha256: followed by 64 hex digits (as the controller prints it)');
  return `sha256:${m[1].replace(/:/g, '').toLowerCase()}`;
}

function fingerprintOf(cert: X509Certificate): string {
  return `sha256:${cert.fingerprint256.replace(/:/g, '').toLowerCase()}`;
}

/** host and port of "host:port" / "[v6]:port". */
export function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const port = Number(address.slice(i + 1));
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  if (i <= 0 || !host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new FleetpassError('FP_INVALID_ARGUMENT', `the controller address ${JSON.stringify(address.slice(0, 100))} must be HOST:PORT, e.g. fleetpass.example.org:7443`);
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
function handshake(host: string, port: number, servername: string | undefined, timeoutMs: number): Promise<X509Certificate[]> {
  return new Promise((resolve, reject) => {
    const isIp = /^[\d.]+$|:/.test(host);
    const socket = connect({ host, port, servername: servername ?? (isIp ? undefined : host), rejectUnauthorized: false, ALPNProtocols: ['h2'] });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new FleetpassError('FP_UNAVAILABLE', `the controller at ${host}:${port} did not complete a TLS handshake within ${timeoutMs / 1000} seconds`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      let chain: X509Certificate[];
      try {
        chain = presentedChain(socket.getPeerCertificate(true));
      } catch (e) {
        socket.destroy();
        reject(new FleetpassError('FP_CONTROLLER_CERT_INVALID', 'the controller presented a certificate that cannot be read', { cause: e }));
        return;
      }
      socket.destroy();
      resolve(chain);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new FleetpassError('FP_UNAVAILABLE', `cannot reach the controller at ${host}:${port}: ${e.code ?? e.message}`, { cause: e }));
    });
  });
}

/**
 * The PEM of the controller CA whose fingerprint is `pinned`, after checking that it signed the server
 * certificate presented for `host`. Throws FP_CA_FINGERPRINT_MISMATCH or FP_CONTROLLER_CERT_INVALID.
 */
export async function fetchPinnedCa(opts: { address: string; pinned: string; serverName?: string; timeoutMs?: number }): Promise<string> {
  const { host, port } = splitAddress(opts.address);
  const pinned = normalizeFingerprint(opts.pinned);
  const chain = await handshake(host, port, opts.serverName, opts.timeoutMs ?? 15_000);
  const leaf = chain[0];
  if (!leaf) throw new FleetpassError('FP_CONTROLLER_CERT_INVALID', `the controller at ${opts.address} presented no certificate`);
  const ca = chain.slice(1).find((c) => fingerprintOf(c) === pinned);
  if (!ca) {
    const seen = chain.slice(1).map(fingerprintOf);
    throw new FleetpassError('FP_CA_FINGERPRINT_MISMATCH', `the controller at ${opts.address} presented ${seen.length ? `CA ${seen.join(', ')}` : 'no CA certificate that signed its server certificate'}, not the pinned ${pinned}; nothing was sent to it`, { details: { presented: seen, pinned } });
  }
  if (!ca.ca || !leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) {
    throw new FleetpassError('FP_CONTROLLER_CERT_INVALID', `the server certificate of ${opts.address} was not signed by the pinned CA; nothing was sent to it`);
  }
  const now = Date.now();
  if (new Date(leaf.validFrom).getTime() > now || new Date(leaf.validTo).getTime() <= now) {
    throw new FleetpassError('FP_CONTROLLER_CERT_INVALID', `the server certificate of ${opts.address} is not valid now (valid ${leaf.validFrom} to ${leaf.validTo}); check the clocks; nothing was sent`);
  }
  const name = opts.serverName ?? host;
  const matches = /^[\d.]+$|:/.test(name) ? leaf.checkIP(name) : leaf.checkHost(name);
  if (!matches) {
    throw new FleetpassError('FP_CONTROLLER_CERT_INVALID', `the controller's certificate is not valid for ${name} (it names ${leaf.subjectAltName ?? 'nothing'}); add ${name} to the controller's tls.hosts or dial a listed name; nothing was sent`);
  }
  return ca.toString();
}
