/** What the escrow functions share: config, storage, the audit log, dispatch, the master key and a clock. */
import type { Clock } from '../../shared/clock';
import { FleetpassError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import type { Policy } from '../access/policy';
import { recordAudited, type AuditLog } from '../audit';
import type { Dispatcher, SecretVault } from '../dispatch';
import type { Store } from '../store';
import type { EscrowConfig } from './escrow-config';
import type { EscrowRepo } from './escrow-repo';
import type { MasterKey } from './master-key';

/** The actor of escrow's own audit records (stored, discarded, key created). */
export const ESCROW_ACTOR = 'escrow';
/** Who asks for every rotation (scheduled, post-use or asked for by an operator, who is audited separately). */
export const ROTATION_ACTOR = 'escrow:rotation';

export interface EscrowDeps {
  config: EscrowConfig;
  store: Store;
  repo: EscrowRepo;
  audit: AuditLog;
  /** Rotations are change requests; escrow captures passwords from its events. */
  dispatcher: Dispatcher;
  /** The dispatcher's vault: where a new password waits, sealed, until its operation is delivered. */
  vault: SecretVault;
  /** Password rules for generated passwords, and who may reset what (manual rotation). */
  policy: Policy;
  master: MasterKey;
  clock: Clock;
  log: Logger;
}

/**
 * Inside a transaction that writes sealed data: the key on record must still be ours. A master key
 * rotated under a running controller would otherwise get rows sealed under the old key.
 */
export function assertKeyCurrent(d: EscrowDeps): void {
  const meta = d.repo.meta();
  if (!meta || meta.keyId !== d.master.keyId) {
    throw new FleetpassError(
      'FP_ESCROW_KEY_WRONG',
      `the escrow master key on record (${meta?.keyId ?? 'none'}) is not the one this controller holds (${d.master.keyId}); it was changed while the controller ran: restart it with the new key`,
    );
  }
}

/** Runs `fn` and its audit records in one transaction (FP_AUDIT_WRITE_FAILED if it cannot commit). */
export function audited<T>(d: Pick<EscrowDeps, 'store' | 'audit'>, fn: (audit: AuditLog) => T): T {
  return recordAudited(d.store.db, () => fn(d.audit));
}

/** The refusal-audit dependencies (access/refusal) of escrow's own policy checks. */
export function refusalDeps(d: EscrowDeps): { db: EscrowDeps['store']['db']; audit: AuditLog; log: EscrowDeps['log'] } {
  return { db: d.store.db, audit: d.audit, log: d.log };
}
