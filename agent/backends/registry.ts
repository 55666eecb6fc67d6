/**
 * Builds the account backends a node enables in its config, keyed by the wire `Backend` enum, and owns
 * the config schema of each under `backends.<name>`. Linux (placeholder until agent/backends/linux/index.ts
 * lands) and LRM now; SSR joins here the same way: a schema entry and a factory line.
 */
import { z } from 'zod';
import type { Logger } from '../../shared/logger';
import type { Clock } from '../../shared/clock';
import { FleetpassError } from '../../shared/errors';
import { Backend } from '../../shared/gen/fleetpass/v1/common';
import type { AccountBackend } from './backend';
import { createLrmBackend, lrmBackendConfigSchema, lrmConfigWarnings } from './lrm';

// TODO(linux helper): replace with `linuxBackendConfigSchema.extend({ enabled })` and `createLinuxBackend`
// from './linux' once agent/backends/linux/index.ts exists.
const linuxSchema = z.object({ enabled: z.boolean().default(true) }).loose();

/** Present = configured; `enabled: false` keeps the settings but turns the backend off. */
const lrmSchema = lrmBackendConfigSchema.extend({ enabled: z.boolean().default(true) });

/** The config schema of each backend, as it appears under `backends.<name>` in the agent config. */
export const backendConfigSchemas = {
  linux: linuxSchema,
  lrm: lrmSchema,
} as const;

export interface BackendsConfig {
  readonly linux: z.infer<typeof linuxSchema>;
  readonly lrm?: z.infer<typeof lrmSchema>;
}

export interface BackendDeps {
  readonly log: Logger;
  readonly clock: Clock;
}

/** Insecure-but-allowed backend settings, one sentence each, keyed by their full config path. */
export function backendWarnings(config: BackendsConfig): string[] {
  const warnings: string[] = [];
  if (config.lrm) {
    warnings.push(...lrmConfigWarnings(withoutEnabled(config.lrm)).map((w) => `backends.${w}`));
    if (config.lrm.serviceAccount.password !== undefined) {
      warnings.push('backends.lrm.serviceAccount.password is written in the config file; prefer passwordFile (a file only the agent can read)');
    }
  }
  return warnings;
}

function withoutEnabled<T extends { enabled: boolean }>(c: T): Omit<T, 'enabled'> {
  const { enabled: _enabled, ...rest } = c;
  return rest;
}

/** Creates every enabled backend; throws FP_BACKEND_UNAVAILABLE / FP_CONFIG_INVALID when an enabled one cannot be built. */
export function createBackends(config: BackendsConfig, deps: BackendDeps): ReadonlyMap<Backend, AccountBackend> {
  const backends = new Map<Backend, AccountBackend>();
  if (config.linux.enabled) {
    throw new FleetpassError('FP_BACKEND_UNAVAILABLE', 'the Linux backend is not built into this agent yet', { details: { backend: 'linux' } });
  }
  if (config.lrm?.enabled) backends.set(Backend.BACKEND_LRM, createLrmBackend(withoutEnabled(config.lrm), { log: deps.log, clock: deps.clock }));
  return backends;
}
