/**
 * Builds the account backends a node enables in its config, keyed by the wire `Backend` enum.
 * Linux now; SSR and LRM are added here (a config schema and a factory each) when they land.
 */
import { z } from 'zod';
import type { Logger } from '../../shared/logger';
import type { Clock } from '../../shared/clock';
import { FleetpassError } from '../../shared/errors';
import { Backend } from '../../shared/gen/fleetpass/v1/common';
import type { AccountBackend } from './backend';

// TODO(linux helper): replace with `linuxBackendConfigSchema.extend({ enabled })` and `createLinuxBackend`
// from './linux' once agent/backends/linux/index.ts exists.
const linuxSchema = z.object({ enabled: z.boolean().default(true) }).loose();

/** The config schema of each backend, as it appears under `backends.<name>` in the agent config. */
export const backendConfigSchemas = {
  linux: linuxSchema,
} as const;

export interface BackendsConfig {
  readonly linux: z.infer<typeof linuxSchema>;
}

export interface BackendDeps {
  readonly log: Logger;
  readonly clock: Clock;
}

/** Creates every enabled backend; throws FP_BACKEND_UNAVAILABLE when an enabled one cannot be built here. */
export function createBackends(config: BackendsConfig, deps: BackendDeps): ReadonlyMap<Backend, AccountBackend> {
  const backends = new Map<Backend, AccountBackend>();
  if (config.linux.enabled) {
    void deps;
    throw new FleetpassError('FP_BACKEND_UNAVAILABLE', 'the Linux backend is not built into this agent yet', { details: { backend: 'linux' } });
  }
  return backends;
}
