/**
 * Reads the node's mTLS material (CA, certificate, key) and the node identity, which is the subject CN
 * of its certificate. Read on every connect, so a renewed certificate is picked up without a restart.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FleetpassError } from '../shared/errors';
import { commonName } from '../shared/pki/subject';
import type { AgentConfig } from './config';

export interface TlsMaterial {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Subject CN of the node certificate. */
  readonly nodeId: string;
  readonly notAfter: Date;
}

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new FleetpassError(
      'FP_TLS_MATERIAL',
      `cannot read the ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { cause: e, details: { file } },
    );
  }
}

/** Loads the files named under `controller`; throws FP_TLS_MATERIAL naming the file that is missing or bad. */
export function readTlsMaterial(c: AgentConfig['controller']): TlsMaterial {
  const ca = read(c.caFile, 'CA certificate (controller.caFile)');
  const cert = read(c.certFile, 'node certificate (controller.certFile)');
  const key = read(c.keyFile, 'node key (controller.keyFile)');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
    new X509Certificate(ca);
  } catch (e) {
    throw new FleetpassError('FP_TLS_MATERIAL', `controller.certFile or controller.caFile is not a PEM certificate`, {
      cause: e,
    });
  }
  const cn = commonName(x509);
  if (!cn)
    throw new FleetpassError(
      'FP_TLS_MATERIAL',
      `the node certificate ${c.certFile} has no single subject CN (the node id)`,
    );
  return { ca, cert, key, nodeId: cn, notAfter: new Date(x509.validTo) };
}
