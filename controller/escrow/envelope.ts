/**
 * Envelope encryption for escrowed passwords: each password is sealed with AES-256-GCM under its own
 * random 256-bit data key, and the data key is sealed (wrapped) under the master key. Both carry the
 * node, backend, account and version as associated data, so a sealed row moved to another account or
 * version does not open. Changing the master key re-wraps the data keys only; passwords are not touched.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { FleetpassError } from '../../shared/errors';

/** Which password a sealed row is: bound into both layers as associated data. */
export interface SecretBinding {
  nodeId: string;
  backend: number;
  account: string;
  version: number;
}

/** The wrapped data key. */
export interface WrappedKey {
  keyIv: Buffer;
  wrappedKey: Buffer;
  keyTag: Buffer;
}

export interface SealedSecret extends WrappedKey {
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

function aad(b: SecretBinding, layer: 'key' | 'secret'): Buffer {
  return Buffer.from(
    ['fleetpass-escrow-v1', layer, b.nodeId, String(b.backend), b.account, String(b.version)].join('\0'),
    'utf8',
  );
}

function encrypt(key: Buffer, plaintext: Buffer, associated: Buffer): { iv: Buffer; ciphertext: Buffer; tag: Buffer } {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(associated);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

function decrypt(key: Buffer, iv: Buffer, ciphertext: Buffer, tag: Buffer, associated: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(associated);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

function unwrap(master: Buffer, w: WrappedKey, b: SecretBinding): Buffer {
  try {
    return decrypt(master, w.keyIv, w.wrappedKey, w.keyTag, aad(b, 'key'));
  } catch (e) {
    throw new FleetpassError(
      'FP_ESCROW_UNREADABLE',
      `the data key of ${b.account} (version ${b.version}) on ${b.nodeId} does not open with this master key`,
      { cause: e },
    );
  }
}

function wrap(master: Buffer, dataKey: Buffer, b: SecretBinding): WrappedKey {
  const w = encrypt(master, dataKey, aad(b, 'key'));
  return { keyIv: w.iv, wrappedKey: w.ciphertext, keyTag: w.tag };
}

/** Seals `password` under a fresh data key wrapped with `master`. */
export function sealSecret(master: Buffer, password: string, binding: SecretBinding): SealedSecret {
  const dataKey = randomBytes(32);
  const plain = Buffer.from(password, 'utf8');
  try {
    const s = encrypt(dataKey, plain, aad(binding, 'secret'));
    return { ...wrap(master, dataKey, binding), ...s };
  } finally {
    dataKey.fill(0);
    plain.fill(0);
  }
}

/** Opens a sealed password; FP_ESCROW_UNREADABLE when the key, the binding or the bytes are wrong. */
export function openSecret(master: Buffer, sealed: SealedSecret, binding: SecretBinding): string {
  const dataKey = unwrap(master, sealed, binding);
  try {
    const plain = decrypt(dataKey, sealed.iv, sealed.ciphertext, sealed.tag, aad(binding, 'secret'));
    const text = plain.toString('utf8');
    plain.fill(0);
    return text;
  } catch (e) {
    throw new FleetpassError(
      'FP_ESCROW_UNREADABLE',
      `the escrowed password of ${binding.account} (version ${binding.version}) on ${binding.nodeId} does not open`,
      { cause: e },
    );
  } finally {
    dataKey.fill(0);
  }
}

/** The data key of `sealed` wrapped under `newMaster` instead of `oldMaster` (fresh IV). */
export function rewrapKey(
  oldMaster: Buffer,
  newMaster: Buffer,
  sealed: WrappedKey,
  binding: SecretBinding,
): WrappedKey {
  const dataKey = unwrap(oldMaster, sealed, binding);
  try {
    return wrap(newMaster, dataKey, binding);
  } finally {
    dataKey.fill(0);
  }
}
