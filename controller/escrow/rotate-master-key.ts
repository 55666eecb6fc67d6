/**
 * Changing the escrow master key, locally on the controller host with the controller stopped: the old key
 * is checked against the data file first (a wrong one changes nothing), then every data key is unwrapped
 * with the old key and wrapped under the new one, the key check value replaced and the change audited,
 * all in one transaction. Passwords themselves are not re-encrypted. Backups made before keep needing the
 * old key.
 */
import { existsSync } from 'node:fs';
import type { Clock } from '../../shared/clock';
import { FleetpassError } from '../../shared/errors';
import { createAuditLog, recordAudited } from '../audit';
import type { ControllerConfig } from '../config';
import { openDatabase } from '../store';
import { createEscrowRepo } from './escrow-repo';
import { rewrapKey } from './envelope';
import { checkDatabaseKey, createKeyFile, keyCheckOf, keyIdOf, keyMatches, readKeyFile } from './master-key';

export interface RotateMasterKeyInput {
  config: ControllerConfig;
  /** The new key file; created (0600, random key) when it does not exist. */
  newKeyFile: string;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  /** The audit actor ("local:<user>"). */
  actor: string;
}

export interface RotateMasterKeyResult {
  rewrapped: number;
  oldKeyId: string;
  newKeyId: string;
  createdKeyFile: boolean;
}

/** Re-wraps every escrowed data key under the key in `newKeyFile`; FP_ESCROW_KEY_* when the current key is wrong or missing. */
export function rotateMasterKey(i: RotateMasterKeyInput): RotateMasterKeyResult {
  const database = i.config.database;
  const old = checkDatabaseKey({ keyFile: i.config.escrow.keyFile, env: i.env, databaseFile: database });
  if (!old)
    throw new FleetpassError(
      'FP_INVALID_ARGUMENT',
      `${database} holds no escrow yet, so there is nothing to re-wrap; point escrow.keyFile at the new key instead`,
    );
  const exists = existsSync(i.newKeyFile);
  const newKey = exists ? readKeyFile(i.newKeyFile) : createKeyFile(i.newKeyFile);
  const newKeyId = keyIdOf(newKey);
  if (newKeyId === old.keyId)
    throw new FleetpassError('FP_INVALID_ARGUMENT', `${i.newKeyFile} holds the current key; give a new key file`);
  const db = openDatabase(database);
  try {
    const repo = createEscrowRepo(db);
    const audit = createAuditLog(db, i.clock);
    const rewrapped = recordAudited(db, () => {
      const meta = repo.meta();
      if (!meta || !keyMatches(meta, old.key))
        throw new FleetpassError(
          'FP_ESCROW_KEY_WRONG',
          'the escrow key changed while the command ran; nothing was changed',
        );
      const rows = repo.all();
      for (const s of rows) repo.rewrap(s.id, rewrapKey(old.key, newKey, s.sealed, s));
      repo.updateMeta({ keyId: newKeyId, keyCheck: keyCheckOf(newKey) }, i.clock.now());
      audit.append({
        actor: i.actor,
        action: 'escrow.master_key.rotated',
        outcome: 'ok',
        details: {
          oldKeyId: old.keyId,
          newKeyId,
          rewrapped: rows.length,
          newKeyFile: i.newKeyFile,
          createdKeyFile: !exists,
        },
      });
      return rows.length;
    });
    return { rewrapped, oldKeyId: old.keyId, newKeyId, createdKeyFile: !exists };
  } finally {
    newKey.fill(0);
    db.close();
  }
}
