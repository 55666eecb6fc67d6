/**
 * The CLI's own settings: where the controller's admin API is, which CA to trust, and the operator's
 * API token. The token comes from the config file, a token file or FLEETPASS_TOKEN; never from argv.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { loadConfig } from '../../shared/config';
import { FleetpassError } from '../../shared/errors';

export const cliConfigSchema = z
  .object({
    /** host:port of the controller's admin API. */
    controller: z.string().min(1).default('127.0.0.1:7444'),
    /** CA certificate that signed the controller's server certificate. */
    caFile: z.string().min(1).default('.fleetpass/pki/ca.crt'),
    /** Name the server certificate must carry, when it differs from the host in `controller`. */
    serverName: z.string().optional(),
    token: z.string().min(1).optional(),
    tokenFile: z.string().min(1).optional(),
    /** Seconds a unary call may take. */
    timeoutSeconds: z.number().int().positive().default(30),
  })
  .strict();

export type CliConfig = z.infer<typeof cliConfigSchema>;

export function defaultCliConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.FLEETPASS_CONFIG ?? join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'fleetpass', 'cli.yaml');
}

/** Loads the CLI config: defaults, then the file, then FLEETPASS_* (FLEETPASS_CONTROLLER, FLEETPASS_TOKEN, ...), then flags. */
export function loadCliConfig(opts: { file?: string; flags?: Partial<CliConfig>; env?: NodeJS.ProcessEnv } = {}): CliConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ?? defaultCliConfigPath(env);
  return loadConfig({ schema: cliConfigSchema, file, fileRequired: Boolean(opts.file), env, envIgnore: ['FLEETPASS_CONFIG', 'FLEETPASS_LOG_LEVEL'], flags: opts.flags }).config;
}

/** The operator's token from the config, or the token file it names. */
export function readToken(config: CliConfig): string {
  if (config.token) return config.token.trim();
  if (config.tokenFile) {
    try {
      return readFileSync(config.tokenFile, 'utf8').trim();
    } catch (e) {
      throw new FleetpassError('FP_UNAUTHENTICATED', `cannot read the token file ${config.tokenFile}`, { cause: e });
    }
  }
  throw new FleetpassError('FP_UNAUTHENTICATED', 'no operator token: set FLEETPASS_TOKEN, or token/tokenFile in the CLI config file');
}
