/** Password escrow: envelope-encrypted passwords, audited reveals, scheduled and post-use rotation (README.md). */
export { startEscrow, type EscrowRuntime, type EscrowRuntimeOptions } from './escrow-runtime';
export { createEscrow, recordMasterKey, type Escrow } from './escrow';
export { checkDatabaseKey, loadMasterKey, readKeyMeta, ESCROW_KEY_ENV, type MasterKey } from './master-key';
export { escrowSchema, defaultEscrowConfig, classify, type EscrowConfig, type AccountClass } from './escrow-config';
export { ESCROW_ACTOR, ROTATION_ACTOR, type EscrowDeps } from './escrow-deps';
export type { EscrowStatusEntry } from './status';
export type { RevealRecord, RevealRecordState } from './escrow-repo';
export type { RevealResult } from './reveal';
export type { RotationPassResult } from './rotation';
