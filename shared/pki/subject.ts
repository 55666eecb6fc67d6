/**
 * Names in a certificate's subject, read with Node's own X.509 parser (node:crypto, not @peculiar/x509),
 * so the agent and the controller read a node's or an operator's name the same way.
 */
import type { X509Certificate } from 'node:crypto';

/**
 * Every value of attribute `key` (CN, OU, …) in the subject, in order, as Node prints them: one
 * attribute per line, special characters escaped (RFC 2253).
 */
export function subjectValues(cert: X509Certificate, key: string): string[] {
  const prefix = `${key}=`;
  return cert.subject
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length));
}

/** The subject CN when there is exactly one and it is not empty (a node or an operator has one name); else undefined. */
export function commonName(cert: X509Certificate): string | undefined {
  const cns = subjectValues(cert, 'CN');
  return cns.length === 1 && cns[0] ? cns[0] : undefined;
}
