/**
 * Configuration of the LRM backend: where Local Run Manager answers, how its certificate is trusted, the
 * administrator service account (a secret: read from the file at each login, never logged) and the
 * endpoint overrides for its undocumented API.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { FleetpassError } from '../../../shared/errors';
import { SHA256_FINGERPRINT } from '../../../shared/pki/fingerprint';
import { accountNameSchema } from '../../../shared/validation/account-name';
import { LRM_ENDPOINT_NAMES } from './endpoints';

const endpointOverrideSchema = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  path: z
    .string()
    .regex(/^\/[^\s]*$/, 'must start with "/" and contain no spaces')
    .optional(),
});

const endpointOverridesShape = Object.fromEntries(
  LRM_ENDPOINT_NAMES.map((n) => [n, endpointOverrideSchema.optional()]),
) as Record<(typeof LRM_ENDPOINT_NAMES)[number], z.ZodOptional<typeof endpointOverrideSchema>>;

export const lrmBackendConfigSchema = z.strictObject({
  /** LRM serves its web page and API on the instrument itself. */
  baseUrl: z
    .url()
    .default('https://localhost')
    .refine(
      (u) => new URL(u).protocol === 'https:',
      'must be an https:// address: the service credential is sent to it',
    ),
  serviceAccount: z
    .strictObject({
      username: accountNameSchema,
      password: z.string().min(1).optional(),
      /** A file readable only by the agent; re-read at each login so a rotated credential needs no restart. */
      passwordFile: z.string().min(1).optional(),
    })
    .refine(
      (s) => (s.password === undefined) !== (s.passwordFile === undefined),
      'set exactly one of password or passwordFile',
    ),
  tls: z
    .strictObject({
      /** PEM file of the CA (or the self-signed certificate itself) that LRM's certificate must chain to. */
      caFile: z.string().min(1).optional(),
      /** SHA-256 fingerprint of LRM's own certificate; pins it exactly, hostname not checked. */
      fingerprint: z
        .string()
        .regex(SHA256_FINGERPRINT, 'must be a SHA-256 fingerprint (64 hex digits, colons allowed)')
        .optional(),
      /** Accept any certificate. Allowed for a first test only; the config loader warns. */
      insecure: z.boolean().default(false),
    })
    .refine(
      (t) => !(t.insecure && (t.caFile || t.fingerprint)),
      'insecure cannot be combined with caFile or fingerprint',
    )
    .default({ insecure: false }),
  /** Overrides of DEFAULT_LRM_ENDPOINTS, per endpoint name, because LRM's API is not publicly documented. */
  endpoints: z.strictObject(endpointOverridesShape).default({}),
  /** A regular expression with one capture group for the version on the login page; the default fits "v4.1.0" forms. */
  versionPattern: z
    .string()
    .refine((p) => {
      try {
        new RegExp(p);
        return true;
      } catch {
        return false;
      }
    }, 'must be a valid regular expression')
    .optional(),
  /** Per request, in milliseconds. */
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  /** LRM newer than 4.x has not been checked against the documentation; refuse it unless IT confirmed it with the probe. */
  allowUntestedVersion: z.boolean().default(false),
});

export type LrmBackendConfig = z.infer<typeof lrmBackendConfigSchema>;
export type LrmBackendConfigInput = z.input<typeof lrmBackendConfigSchema>;

/** Insecure-but-allowed settings, one sentence each, for loadConfig's `warn` (prefix the key path as needed). */
export function lrmConfigWarnings(config: LrmBackendConfig): string[] {
  const warnings: string[] = [];
  if (config.tls.insecure) {
    warnings.push(
      'lrm.tls.insecure is true: any certificate is accepted for Local Run Manager, so the LRM service credential could be sent to an impostor; set lrm.tls.fingerprint or lrm.tls.caFile instead',
    );
  }
  if (config.allowUntestedVersion) {
    warnings.push(
      'lrm.allowUntestedVersion is true: Local Run Manager versions newer than 4.x are used without having been checked; confirm them with `fleetpass-agent lrm probe`',
    );
  }
  return warnings;
}

/** Reads the service account password at the moment it is needed; the error names the file, never the content. */
export function readServicePassword(config: LrmBackendConfig): string {
  const { password, passwordFile } = config.serviceAccount;
  if (password !== undefined) return password;
  let text: string;
  try {
    text = readFileSync(passwordFile as string, 'utf8');
  } catch (e) {
    throw new FleetpassError(
      'FP_CONFIG_UNREADABLE',
      `cannot read the LRM service account password file ${passwordFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        details: { key: 'lrm.serviceAccount.passwordFile' },
      },
    );
  }
  const value = text.replace(/\r?\n$/, '');
  if (value.length === 0) {
    throw new FleetpassError('FP_CONFIG_INVALID', `the LRM service account password file ${passwordFile} is empty`, {
      details: { key: 'lrm.serviceAccount.passwordFile' },
    });
  }
  return value;
}

/** Parses LRM backend config (already-parsed config passes unchanged); throws FP_CONFIG_INVALID listing keys. */
export function parseLrmBackendConfig(input: unknown): LrmBackendConfig {
  const result = lrmBackendConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `lrm.${i.path.map(String).join('.')}: ${i.message}`);
  throw new FleetpassError('FP_CONFIG_INVALID', `invalid LRM configuration:\n  ${problems.join('\n  ')}`, {
    details: { problems },
  });
}
