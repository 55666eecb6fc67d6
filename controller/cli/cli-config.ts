/**
 * The CLI's own settings: where the controller's admin API is, which CA to trust, and the operator's
 * credential: an API token (config file, a token file, FLEETPASS_TOKEN or FLEETPASS_TOKEN_FILE; never
 * argv), or an operator client certificate (certFile/keyFile, from `fleetpass-controller operator-cert`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { envNameToPath, loadConfig } from '../../shared/config';
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
    /** An operator client certificate and its key, used when no token is configured. */
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    /** Seconds a unary call may take. */
    timeoutSeconds: z.number().int().positive().default(30),
  })
  .strict()
  .refine((c) => !c.certFile === !c.keyFile, { message: 'certFile and keyFile go together', path: ['certFile'] });

const CLI_KEYS = new Set([
  'controller',
  'caFile',
  'serverName',
  'token',
  'tokenFile',
  'certFile',
  'keyFile',
  'timeoutSeconds',
]);

export type CliConfig = z.infer<typeof cliConfigSchema>;

/** The variable that names the CLI's file, when one does (an empty one names nothing). */
function namingVariable(env: NodeJS.ProcessEnv): 'FLEETPASS_CLI_CONFIG' | 'FLEETPASS_CONFIG' | undefined {
  if (env.FLEETPASS_CLI_CONFIG) return 'FLEETPASS_CLI_CONFIG';
  if (env.FLEETPASS_CONFIG) return 'FLEETPASS_CONFIG';
  return undefined;
}

/** FLEETPASS_CLI_CONFIG names the CLI's file (FLEETPASS_CONFIG is also read, for a shell set up for the CLI alone). */
export function defaultCliConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const named = namingVariable(env);
  return named ? env[named]! : join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'fleetpass', 'cli.yaml');
}

/** Loads the CLI config: defaults, then the file, then FLEETPASS_* (FLEETPASS_CONTROLLER, FLEETPASS_TOKEN, ...), then flags. */
export function loadCliConfig(
  opts: { file?: string; flags?: Partial<CliConfig>; env?: NodeJS.ProcessEnv } = {},
): CliConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ?? defaultCliConfigPath(env);
  // A file someone named (--config, or a variable) must exist: a mistyped path silently falling back to
  // the defaults reads as a wrong token or controller, far from the typo. Only the default may be absent.
  const namedBy = opts.file ? '--config' : namingVariable(env);
  if (namedBy && !existsSync(file))
    throw new FleetpassError('FP_CONFIG_NOT_FOUND', `the CLI config file ${file} (from ${namedBy}) does not exist`, {
      details: { file },
    });
  // The controller and agent share the FLEETPASS_ prefix; only names of CLI keys are ours.
  const envIgnore = Object.keys(env).filter(
    (name) => name.startsWith('FLEETPASS_') && !CLI_KEYS.has(envNameToPath(name, 'FLEETPASS_')[0]),
  );
  return loadConfig({
    schema: cliConfigSchema,
    file,
    fileRequired: Boolean(namedBy),
    env,
    envIgnore,
    flags: opts.flags,
  }).config;
}

/** Where `fleetpass login` keeps its session token (0600): the user's config folder. */
export function sessionTokenPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'fleetpass', 'session.token');
}

/** The session token `fleetpass login` stored, when there is one. */
export function readSessionToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    return readFileSync(sessionTokenPath(env), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The operator's token from the config, or the token file it names, or the session token of
 * `fleetpass login`; undefined when a certificate is configured instead.
 */
export function readToken(config: CliConfig): string | undefined {
  if (config.token) return config.token.trim();
  if (config.tokenFile) {
    try {
      return readFileSync(config.tokenFile, 'utf8').trim();
    } catch (e) {
      throw new FleetpassError('FP_UNAUTHENTICATED', `cannot read the token file ${config.tokenFile}`, { cause: e });
    }
  }
  if (config.certFile) return undefined;
  const session = readSessionToken();
  if (session) return session;
  throw new FleetpassError(
    'FP_UNAUTHENTICATED',
    'no operator credential: run `fleetpass login`, or set FLEETPASS_TOKEN_FILE (or token/tokenFile, or certFile/keyFile) in the CLI config file',
  );
}
