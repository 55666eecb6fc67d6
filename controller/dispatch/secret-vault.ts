/**
 * Secrets in flight. While an operation waits for its node, its new password exists only sealed with
 * AES-256-GCM (random 96-bit IV, the operation id as associated data so a sealed secret cannot be moved
 * to another operation) under a 32-byte key in `<stateDir>/secrets.key` (mode 0600, created at first
 * start). The sealed row is erased once the operation is final: delivered (the agent answered), expired
 * or cancelled. Plaintext exists only in memory, just long enough to write it to the node's stream.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createKeyFile, readKeyFile } from '../../shared/key-file';
import { FleetpassError } from '../../shared/errors';
import type { Db } from '../store/database';

export interface SecretKey {
  key: Buffer;
  /** A short fingerprint of the key, stored with each sealed secret to detect a swapped key file. */
  keyId: string;
}

function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('fleetpass-secrets-key').update(key).digest('hex').slice(0, 16);
}

const KIND = { code: 'FP_KEY_INVALID', name: 'the secrets key' } as const;

/**
 * Reads the key file, or creates it (0600, exclusive) when absent and `mayCreate`. A key readable by
 * group or others, of the wrong size, or missing while sealed secrets exist is FP_KEY_INVALID.
 */
export function loadOrCreateSecretKey(file: string, mayCreate: boolean): SecretKey {
  if (!mayCreate && !existsSync(file)) {
    throw new FleetpassError(
      'FP_KEY_INVALID',
      `the secrets key ${file} is missing but the database holds sealed secrets; restore the key file from backup`,
    );
  }
  const key = (mayCreate ? createKeyFile(file, KIND, true) : undefined) ?? readKeyFile(file, KIND);
  return { key, keyId: keyIdOf(key) };
}

export interface SecretVault {
  /** Seals `secret` for operation `operationId`; call inside the transaction that creates the operation. */
  seal(operationId: string, secret: string, now: Date): void;
  /** The plaintext, or undefined when none is stored; FP_KEY_INVALID if it cannot be opened. */
  open(operationId: string): string | undefined;
  /** Erases the sealed secret; call inside the transaction that makes the operation final. */
  erase(operationId: string): boolean;
  /** How many sealed secrets exist, and how many were sealed under another key. */
  census(): { total: number; foreignKey: number };
}

/** The vault over the pending_secrets table. */
export function createSecretVault(db: Db, secretKey: SecretKey): SecretVault {
  const insert = db.prepare(
    'INSERT INTO pending_secrets (operation_id, key_id, iv, ciphertext, tag, created) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const select = db.prepare<[string], { key_id: string; iv: Buffer; ciphertext: Buffer; tag: Buffer }>(
    'SELECT key_id, iv, ciphertext, tag FROM pending_secrets WHERE operation_id = ?',
  );
  const remove = db.prepare('DELETE FROM pending_secrets WHERE operation_id = ?');
  const census = db.prepare<[string], { total: number; foreign_key: number }>(
    'SELECT count(*) AS total, coalesce(sum(key_id <> ?), 0) AS foreign_key FROM pending_secrets',
  );

  return {
    seal(operationId, secret, now) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', secretKey.key, iv);
      cipher.setAAD(Buffer.from(operationId, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      insert.run(operationId, secretKey.keyId, iv, ciphertext, cipher.getAuthTag(), now.toISOString());
    },
    open(operationId) {
      const row = select.get(operationId);
      if (!row) return undefined;
      if (row.key_id !== secretKey.keyId)
        throw new FleetpassError(
          'FP_KEY_INVALID',
          `the secret of operation ${operationId} was sealed under another key`,
        );
      try {
        const decipher = createDecipheriv('aes-256-gcm', secretKey.key, row.iv);
        decipher.setAAD(Buffer.from(operationId, 'utf8'));
        decipher.setAuthTag(row.tag);
        return Buffer.concat([decipher.update(row.ciphertext), decipher.final()]).toString('utf8');
      } catch (e) {
        throw new FleetpassError(
          'FP_KEY_INVALID',
          `the secret of operation ${operationId} does not open with this key`,
          { cause: e },
        );
      }
    },
    erase(operationId) {
      return remove.run(operationId).changes > 0;
    },
    census() {
      const r = census.get(secretKey.keyId)!;
      return { total: r.total, foreignKey: r.foreign_key };
    },
  };
}
