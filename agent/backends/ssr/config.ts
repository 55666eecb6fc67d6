/**
 * Configuration of the SSR backend: where the router's REST API answers (the agent runs on the router
 * itself, so loopback by default), how its certificate is trusted, how the 128T service is checked, and how
 * the agent signs in to read the user list. Every setting has a safe default; insecure ones warn.
 */
import { z } from 'zod';
import { FleetpassError } from '../../../shared/errors';
import { SHA256_FINGERPRINT } from '../../../shared/pki/fingerprint';
import { accountNameSchema } from '../../../shared/validation/account-name';

/** Where 128T keeps the key its conductor uses to sign in locally (third-party scripts; confirm on a router). */
export const DEFAULT_SSR_LOCAL_KEY_FILE = '/home/admin/.ssh/pdc_ssh_key';

export const ssrBackendConfigSchema = z.strictObject({
  /** The SSR web server and REST API on this router. */
  baseUrl: z
    .url()
    .default('https://127.0.0.1')
    .refine((u) => new URL(u).protocol === 'https:', 'must be an https:// address: passwords are sent to it'),
  tls: z
    .strictObject({
      /** PEM file of the CA (or the router's self-signed certificate itself) its certificate must chain to. */
      caFile: z.string().min(1).optional(),
      /** TLS name to check on the certificate with caFile, when it differs from the baseUrl host. */
      serverName: z.string().min(1).optional(),
      /** SHA-256 fingerprint of the router's own certificate; pins it exactly, host name not checked. */
      fingerprint: z
        .string()
        .regex(SHA256_FINGERPRINT, 'must be a SHA-256 fingerprint (64 hex digits, colons allowed)')
        .optional(),
      /** Accept any certificate. Allowed for a first test only; the config loader warns. */
      insecure: z.boolean().default(false),
    })
    .refine((t) => !(t.caFile && t.fingerprint), 'set caFile or fingerprint, not both')
    .refine(
      (t) => !(t.insecure && (t.caFile || t.fingerprint)),
      'insecure cannot be combined with caFile or fingerprint',
    )
    // Neither caFile nor fingerprint: the system's trusted CAs, which a router's self-signed certificate fails (closed).
    .prefault({}),
  serviceCheck: z
    .strictObject({
      /** argv (no shell) that prints the unit state and exits 0 only when 128T is active. */
      command: z.array(z.string().min(1)).min(1).default(['systemctl', 'is-active', '128T']),
      timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
    })
    .prefault({}),
  /** How the agent signs in to read the SSR user list (inspect, and the checks before a reset). */
  userList: z
    .strictObject({
      /** false: the user store is not read; inspect reports ssr.store "unknown" and reset skips its checks. */
      enabled: z.boolean().default(true),
      username: accountNameSchema.default('admin'),
      /** Key-based local login (`{"username","local":<key>}`); the default when no passwordFile is set. */
      keyFile: z.string().min(1).optional(),
      /** Password login instead; a file readable only by the agent, read at each sign-in. */
      passwordFile: z.string().min(1).optional(),
    })
    .refine((l) => !(l.keyFile && l.passwordFile), 'set keyFile or passwordFile, not both')
    .prefault({}),
  /** Per REST request, in milliseconds. */
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
});

export type SsrBackendConfig = z.infer<typeof ssrBackendConfigSchema>;
export type SsrBackendConfigInput = z.input<typeof ssrBackendConfigSchema>;

/** Insecure-but-allowed settings, one sentence each, for loadConfig's `warn`. */
export function ssrConfigWarnings(config: SsrBackendConfig): string[] {
  const warnings: string[] = [];
  if (config.tls.insecure) {
    warnings.push(
      'ssr.tls.insecure is true: any certificate is accepted for the SSR REST API, so user passwords could be sent to an impostor; set ssr.tls.fingerprint or ssr.tls.caFile instead',
    );
  }
  const host = new URL(config.baseUrl).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) {
    warnings.push(
      `ssr.baseUrl points at ${host}, not this router: the agent must run on the router whose Linux accounts it changes`,
    );
  }
  return warnings;
}

/** Parses SSR backend config (already-parsed config passes unchanged); throws FP_CONFIG_INVALID listing keys. */
export function parseSsrBackendConfig(input: unknown): SsrBackendConfig {
  const result = ssrBackendConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `ssr.${i.path.map(String).join('.')}: ${i.message}`);
  throw new FleetpassError('FP_CONFIG_INVALID', `invalid SSR configuration:\n  ${problems.join('\n  ')}`, {
    details: { problems },
  });
}
