/** The address of a caller without its port, so a client's reconnects count against one limit window. */

/** The address part of a grpc-js peer string ("127.0.0.1:5123" → "127.0.0.1", "[::1]:5123" → "::1", "ipv4:1.2.3.4:5" → "1.2.3.4"). */
export function peerAddress(peer: string): string {
  const p = peer.replace(/^ipv[46]:/, '');
  const i = p.lastIndexOf(':');
  const host = i > 0 && /^\d+$/.test(p.slice(i + 1)) ? p.slice(0, i) : p;
  return host.replace(/^\[|\]$/g, '');
}
