/**
 * BENCHMARK ONLY: the controller CA and one client certificate per simulated node, issued with
 * shared/pki (issueClientCertificate) and cached on disk, since each takes a few milliseconds and a
 * full run needs 10,000. Node identity comes from the certificate's CN, so every node has its own.
 * The controller under test uses this folder as its tls.dir, so it trusts these certificates.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ensureControllerPki, issueClientCertificate, writeSecureFile, type CertAndKey } from '../../shared/pki';
import { cacheDir } from './paths';

export interface BenchPki {
  /** The controller's tls.dir. */
  dir: string;
  caFile: string;
  ca: CertAndKey;
  caFingerprint: string;
  nodesDir: string;
}

export interface NodeFiles {
  nodeId: string;
  certFile: string;
  keyFile: string;
}

/** The cached CA (created on first use) and the folder of node certificates issued by it. */
export async function benchPki(): Promise<BenchPki> {
  const dir = join(cacheDir(), 'pki');
  const pki = await ensureControllerPki(dir, { hosts: ['localhost', '127.0.0.1', hostname().toLowerCase()] });
  const nodesDir = join(dir, 'nodes');
  const marker = join(nodesDir, 'ca-fingerprint');
  // Certificates from an older CA are useless: start the folder over.
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== pki.caFingerprint) {
    rmSync(nodesDir, { recursive: true, force: true });
    mkdirSync(nodesDir, { recursive: true });
    writeFileSync(marker, pki.caFingerprint);
  }
  return { dir, caFile: pki.files.caCert, ca: pki.ca, caFingerprint: pki.caFingerprint, nodesDir };
}

/** `bench-00042`: valid node ids, sortable. */
export function nodeId(i: number): string {
  return `bench-${String(i).padStart(5, '0')}`;
}

/** The files of each node id, issuing (concurrently) those not cached yet. */
export async function nodeCertificates(pki: BenchPki, ids: readonly string[]): Promise<NodeFiles[]> {
  const files = ids.map((id) => ({
    nodeId: id,
    certFile: join(pki.nodesDir, `${id}.crt`),
    keyFile: join(pki.nodesDir, `${id}.key`),
  }));
  const missing = files.filter((f) => !existsSync(f.certFile) || !existsSync(f.keyFile));
  for (let i = 0; i < missing.length; i += 32) {
    await Promise.all(
      missing.slice(i, i + 32).map(async (f) => {
        const c = await issueClientCertificate(pki.ca, { commonName: f.nodeId, validDays: 365 });
        writeSecureFile(f.keyFile, c.keyPem);
        writeSecureFile(f.certFile, c.certPem, 0o644);
      }),
    );
  }
  return files;
}
