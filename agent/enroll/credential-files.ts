/**
 * The node's key, certificate and CA files, replaced atomically: each new file is written beside the old
 * one as `<file>.new` (key 0600), flushed, then renamed over it: CA, key, certificate. A crash between the renames
 * leaves a new key with an old certificate; `recoverPendingCredentials` (run before the agent reads its
 * files) finishes the swap when the waiting certificate matches the key, so the node is never stranded.
 */
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { FleetpassError } from '../../shared/errors';

export interface CredentialPaths {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface Credentials {
  keyPem: string;
  certPem: string;
  /** Absent on renewal: the CA does not change. */
  caPem?: string;
}

const pending = (file: string) => `${file}.new`;

/** True when `certPem` carries the public half of `keyPem`. */
export function keyMatchesCertificate(keyPem: string | Buffer, certPem: string | Buffer): boolean {
  try {
    const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    const fromCert = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
    return fromKey.equals(fromCert);
  } catch {
    return false;
  }
}

function writeDurably(file: string, content: string, mode: number): void {
  const fd = openSync(file, 'w', mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic.
  }
}

function writeError(file: string, what: string, e: unknown): FleetpassError {
  const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  const hint =
    code === 'EROFS' || code === 'EACCES' || code === 'EPERM'
      ? '; keep it in the state directory (/var/lib/fleetpass-agent), which the agent may write'
      : '';
  return new FleetpassError('FP_TLS_MATERIAL', `cannot write the ${what} ${file}: ${code}${hint}`, {
    cause: e,
    details: { file },
  });
}

/** Writes the new files and swaps them in (CA, key, then certificate). Throws FP_TLS_MATERIAL naming the file. */
export function writeCredentials(paths: CredentialPaths, creds: Credentials): void {
  if (!keyMatchesCertificate(creds.keyPem, creds.certPem))
    throw new FleetpassError('FP_TLS_MATERIAL', 'the new certificate does not match the new key; nothing was written');
  // The certificate goes last: while `<certFile>.new` exists, the swap is not finished.
  const files: Array<{ file: string; content: string; mode: number; what: string }> = [];
  if (creds.caPem)
    files.push({ file: paths.caFile, content: creds.caPem, mode: 0o644, what: 'CA certificate (controller.caFile)' });
  files.push(
    { file: paths.keyFile, content: creds.keyPem, mode: 0o600, what: 'node key (controller.keyFile)' },
    { file: paths.certFile, content: creds.certPem, mode: 0o644, what: 'node certificate (controller.certFile)' },
  );
  for (const f of files) {
    try {
      mkdirSync(dirname(f.file), { recursive: true, mode: 0o700 });
      rmSync(pending(f.file), { force: true });
      writeDurably(pending(f.file), f.content, f.mode);
    } catch (e) {
      for (const g of files) rmSync(pending(g.file), { force: true });
      throw writeError(f.file, f.what, e);
    }
  }
  for (const f of files) {
    try {
      renameSync(pending(f.file), f.file);
    } catch (e) {
      throw writeError(f.file, f.what, e);
    }
  }
  for (const dir of new Set(files.map((f) => dirname(f.file)))) syncDir(dir);
}

/**
 * Finishes a swap a crash interrupted: a waiting certificate that matches the waiting (or already swapped)
 * key is moved in; anything else left over is removed. Returns what it did, for the log.
 */
export function recoverPendingCredentials(paths: CredentialPaths): 'none' | 'completed' | 'discarded' {
  const certNew = pending(paths.certFile);
  const keyNew = pending(paths.keyFile);
  const caNew = pending(paths.caFile);
  if (!existsSync(certNew) && !existsSync(keyNew) && !existsSync(caNew)) return 'none';
  const keySource = existsSync(keyNew) ? keyNew : paths.keyFile;
  let matches: boolean;
  try {
    matches = existsSync(certNew) && keyMatchesCertificate(readFileSync(keySource), readFileSync(certNew));
  } catch {
    matches = false;
  }
  if (matches) {
    if (existsSync(caNew)) renameSync(caNew, paths.caFile);
    if (keySource === keyNew) renameSync(keyNew, paths.keyFile);
    renameSync(certNew, paths.certFile);
    syncDir(dirname(paths.certFile));
    return 'completed';
  }
  for (const f of [certNew, keyNew, caNew]) rmSync(f, { force: true });
  return 'discarded';
}
