/**
 * The controller config's `auth` section: whether the console takes API tokens, how long a signed-in
 * session may live, and `oidc`, sign-in through the organisation's identity provider (OpenID Connect):
 * the issuer (found by discovery), the client, the claims that name the user and carry the groups, and the
 * mapping from groups to fleetpass roles. The client secret comes from a file or from
 * FLEETPASS_AUTH__OIDC__CLIENT_SECRET, never from the config file (load-config refuses it there).
 */
import { z } from 'zod';
import type { OperatorRole } from '../store/operators-repo';

const ROLE = z.enum(['viewer', 'operator', 'approver', 'admin']);

/** Where the secret may not be written: the config file (checked by shared/config with `fileForbidden`). */
export const AUTH_FILE_FORBIDDEN = ['auth.oidc.clientSecret'];

const httpsUrl = z
  .string()
  .url({ message: 'must be a URL' })
  .refine((u) => u.startsWith('https://'), { message: 'must be an https:// URL' });

/** A scope token (RFC 6749 section 3.3). */
const scope = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, { message: 'must be one scope word' });

const domain = z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, {
  message: 'must be a lower-case domain name such as example.org',
});

export const oidcSchema = z
  .object({
    /** The provider's issuer URL; its /.well-known/openid-configuration is read at the first sign-in. */
    issuer: httpsUrl,
    /** Shown on the button: "Sign in with <name>". */
    name: z.string().min(1).max(40).default('your identity provider'),
    clientId: z.string().min(1).max(256),
    /** A file holding the client secret (one line). Or FLEETPASS_AUTH__OIDC__CLIENT_SECRET. */
    clientSecretFile: z.string().min(1).optional(),
    /** Only from the environment (FLEETPASS_AUTH__OIDC__CLIENT_SECRET); refused in the config file. */
    clientSecret: z.string().min(1).optional(),
    scopes: z
      .array(scope)
      .default(['openid', 'profile', 'email'])
      .refine((s) => s.includes('openid'), { message: 'must include "openid"' }),
    /** The claim whose value becomes the operator name (lower-cased; other characters become "-"). */
    userClaim: z.string().min(1).default('preferred_username'),
    /** The claim that lists the user's groups (an array of strings). */
    groupsClaim: z.string().min(1).default('groups'),
    /** Provider group -> fleetpass role; a user in several mapped groups gets the strongest role. */
    groupRoles: z
      .record(z.string().min(1).max(256), ROLE)
      .refine((m) => Object.keys(m).length > 0, { message: 'must map at least one group to a role' }),
    /** When set, only users whose e-mail (or user claim) is in one of these domains may sign in. */
    allowedDomains: z.array(domain).min(1).optional(),
    /** Where the provider sends the browser back; default https://<webListen>/auth/oidc/callback. */
    redirectUrl: httpsUrl.optional(),
    /** How long a sign-in may take at the provider (browser state, device code). */
    loginTimeoutSeconds: z.number().int().min(1).max(3600).default(600),
    /** Lifetime of the session token `fleetpass login` obtains. */
    cliTokenSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(8 * 3600),
  })
  .strict()
  .refine((o) => (o.clientSecret === undefined) !== (o.clientSecretFile === undefined), {
    message:
      'needs the client secret either in a file (auth.oidc.clientSecretFile) or in FLEETPASS_AUTH__OIDC__CLIENT_SECRET, not both',
  });

export const authSchema = z
  .object({
    /** Whether the console still takes an operator API token at sign-in (the admin API always does). */
    tokenSignIn: z.boolean().default(true),
    /** Longest life of a console session, whatever the activity; also caps a CLI session token. */
    sessionMaxAgeSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(8 * 3600),
    oidc: oidcSchema.optional(),
  })
  .strict()
  .refine((a) => a.tokenSignIn || a.oidc !== undefined, {
    message: 'tokenSignIn: false needs auth.oidc, or nobody could sign in to the console',
  });

export const DEFAULT_AUTH_CONFIG = { tokenSignIn: true, sessionMaxAgeSeconds: 8 * 3600 };

export type AuthConfig = z.output<typeof authSchema>;
export type OidcConfig = z.output<typeof oidcSchema>;

/** The strongest first: admin manages, approver decides, operator acts, viewer reads. */
const STRENGTH: readonly OperatorRole[] = ['admin', 'approver', 'operator', 'viewer'];

/** The role the mapping gives `groups`, and the group it came from; undefined when none is mapped. */
export function roleForGroups(
  mapping: Readonly<Record<string, OperatorRole>>,
  groups: readonly string[],
): { role: OperatorRole; group: string } | undefined {
  let best: { role: OperatorRole; group: string } | undefined;
  for (const g of groups) {
    if (!Object.prototype.hasOwnProperty.call(mapping, g)) continue;
    const role = mapping[g];
    if (!best || STRENGTH.indexOf(role) < STRENGTH.indexOf(best.role)) best = { role, group: g };
  }
  return best;
}
