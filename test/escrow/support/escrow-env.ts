/**
 * TEST ONLY: the operator environment (real controller in this process, admin API, real CLI bundle) with
 * password escrow on, as the controller runs it. No cron: tests run rotation passes by hand. FLEETPASS_ESCROW_KEY of the host never
 * leaks in (the key comes from the state folder's escrow.key unless a test passes `env`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../../shared/clock';
import type { Logger } from '../../../shared/logger';
import type { ControllerConfigInput } from '../../../controller/config';
import type { Escrow } from '../../../controller/escrow';
import { startOperatorEnv, type OperatorEnv } from '../../operator/support/operator-harness';

export interface EscrowEnv extends OperatorEnv {
  escrow: { engine(): Escrow };
}

export async function startEscrowEnv(
  o: { config?: ControllerConfigInput; clock?: Clock; log?: Logger; env?: NodeJS.ProcessEnv } = {},
): Promise<EscrowEnv> {
  const env = await startOperatorEnv({ config: o.config, clock: o.clock, log: o.log, escrow: true, env: o.env ?? {} });
  return Object.assign(env, { escrow: { engine: () => env.tc.ctx.escrow() } });
}

/** The raw bytes of the data file and its WAL/SHM (after a checkpoint), to search for plaintext. */
export function databaseBytes(env: OperatorEnv): Buffer[] {
  env.tc.ctx.store.db.pragma('wal_checkpoint(PASSIVE)');
  return readdirSync(env.tc.stateDir)
    .filter((f) => f.startsWith('fleetpass.db'))
    .map((f) => readFileSync(join(env.tc.stateDir, f)));
}

/** True when any of `files` contains `secret` as UTF-8 bytes. */
export function containsSecret(files: Buffer[], secret: string): boolean {
  const needle = Buffer.from(secret, 'utf8');
  return files.some((b) => b.includes(needle));
}
