/**
 * Builds the account backends a node enables in its config, keyed by the wire `Backend` enum, and owns
 * the config schema of each under `backends.<name>`: the backend's own schema plus `enabled`.
 * A new backend joins here the same way: a schema entry, a warnings line and a factory line.
 */
import { z } from 'zod';
import type { Logger } from '../../shared/logger';
import type { Clock } from '../../shared/clock';
import { Backend } from '../../shared/gen/fleetpass/v1/common';
import type { AccountBackend } from './backend';
import { createLinuxBackend, createLinuxContext, linuxBackendConfigSchema } from './linux';
import { createLrmBackend, lrmBackendConfigSchema, lrmConfigWarnings } from './lrm';
import { createSsrBackend, ssrBackendConfigSchema, ssrConfigWarnings } from './ssr';

/** On by default: every node the agent runs on is a Linux host (NextSeq 1000/2000, SSR). */
const linuxSchema = linuxBackendConfigSchema.extend({ enabled: z.boolean().default(true) });

/** Present = configured; `enabled: false` keeps the settings but turns the backend off. */
const ssrSchema = ssrBackendConfigSchema.extend({ enabled: z.boolean().default(true) });

/** Present = configured; `enabled: false` keeps the settings but turns the backend off. */
const lrmSchema = lrmBackendConfigSchema.extend({ enabled: z.boolean().default(true) });

/** The config schema of each backend, as it appears under `backends.<name>` in the agent config. */
export const backendConfigSchemas = {
  linux: linuxSchema,
  ssr: ssrSchema,
  lrm: lrmSchema,
} as const;

export interface BackendsConfig {
  readonly linux: z.infer<typeof linuxSchema>;
  readonly ssr?: z.infer<typeof ssrSchema>;
  readonly lrm?: z.infer<typeof lrmSchema>;
}

export interface BackendDeps {
  readonly log: Logger;
  readonly clock: Clock;
}

/** Insecure-but-allowed backend settings, one sentence each, keyed by their full config path. */
export function backendWarnings(config: BackendsConfig): string[] {
  const warnings: string[] = [];
  if (config.ssr) warnings.push(...ssrConfigWarnings(withoutEnabled(config.ssr)).map((w) => `backends.${w}`));
  if (config.lrm) {
    warnings.push(...lrmConfigWarnings(withoutEnabled(config.lrm)).map((w) => `backends.${w}`));
    if (config.lrm.serviceAccount.password !== undefined) {
      warnings.push(
        'backends.lrm.serviceAccount.password is written in the config file; prefer passwordFile (a file only the agent can read)',
      );
    }
  }
  return warnings;
}

function withoutEnabled<T extends { enabled: boolean }>(c: T): Omit<T, 'enabled'> {
  const { enabled: _enabled, ...rest } = c;
  return rest;
}

/** Creates every enabled backend; throws FP_CONFIG_INVALID (or the backend's own code) when an enabled one cannot be built. */
export function createBackends(config: BackendsConfig, deps: BackendDeps): ReadonlyMap<Backend, AccountBackend> {
  const backends = new Map<Backend, AccountBackend>();
  const linuxConfig = withoutEnabled(config.linux);
  if (config.linux.enabled)
    backends.set(Backend.BACKEND_LINUX, createLinuxBackend({ config: linuxConfig, clock: deps.clock, log: deps.log }));
  if (config.ssr?.enabled) {
    // SSR users are Linux accounts too: their Linux side uses the node's backends.linux paths and timeouts.
    const linux = createLinuxContext({ config: linuxConfig, clock: deps.clock, log: deps.log });
    backends.set(
      Backend.BACKEND_SSR,
      createSsrBackend(withoutEnabled(config.ssr), { log: deps.log, clock: deps.clock, linux }),
    );
  }
  if (config.lrm?.enabled)
    backends.set(
      Backend.BACKEND_LRM,
      createLrmBackend(withoutEnabled(config.lrm), { log: deps.log, clock: deps.clock }),
    );
  return backends;
}
