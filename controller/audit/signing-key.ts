/**
 * The audit signing key: an Ed25519 private key (PKCS#8 PEM) in its own file, 0600, apart from the data
 * file and the checkpoint file, so a copy of the database alone cannot sign a checkpoint. Its public half
 * is written beside it as a vkey (shared/tlog/signed-checkpoint.ts) for agents, exports and auditors.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { FleetpassError } from '../../shared/errors';
import { parseVkey, verifierFor, type CheckpointVerifier } from '../../shared/tlog/signed-checkpoint';

export interface SigningKey {
  privateKey: KeyObject;
  verifier: CheckpointVerifier;
}

function readPrivateKey(file: string): KeyObject {
  try {
    const st = statSync(file);
    if ((st.mode & 0o077) !== 0)
      throw new FleetpassError(
        'FP_AUDIT_KEY_INVALID',
        `the audit signing key ${file} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 on it`,
      );
    const key = createPrivateKey(readFileSync(file, 'utf8'));
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
    return key;
  } catch (e) {
    if (e instanceof FleetpassError) throw e;
    throw new FleetpassError(
      'FP_AUDIT_KEY_INVALID',
      `cannot read the audit signing key ${file}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

/** Creates the key on first start (0600, exclusive, fsynced), reads it after; rewrites the vkey beside it. */
export function loadOrCreateSigningKey(keyFile: string, vkeyFile: string): SigningKey {
  let fd: number | undefined;
  try {
    fd = openSync(keyFile, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new FleetpassError('FP_AUDIT_KEY_INVALID', `cannot create the audit signing key ${keyFile}`, { cause: e });
  }
  if (fd !== undefined) {
    try {
      const { privateKey } = generateKeyPairSync('ed25519');
      writeSync(fd, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  const privateKey = readPrivateKey(keyFile);
  const verifier = verifierFor(createPublicKey(privateKey));
  writeFileSync(vkeyFile, `${verifier.vkey}\n`, { mode: 0o644 });
  return { privateKey, verifier };
}

/** Reads a vkey file (the log's public key). */
export function readVerifierKey(file: string): CheckpointVerifier {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new FleetpassError('FP_AUDIT_KEY_INVALID', `cannot read the audit public key ${file}`, { cause: e });
  }
  return parseVkey(text, `the audit public key ${file}`);
}
