/**
 * Sign-in through the organisation's identity provider (OpenID Connect), for the console (authorization
 * code flow) and `fleetpass login` (device authorization grant). The relying party (access/
 * oidc-relying-party) proves who the user is at the provider; here that identity becomes an operator:
 * the provider's issuer and subject name the person (one operator per person), the role comes from
 * auth.oidc.groupRoles at EVERY sign-in (a user removed from a group loses that role at the next one; a
 * user in no mapped group is refused and their CLI session tokens are revoked), and each change of role is
 * audited. Every sign-in, sign-out and refusal is audited; a refused sign-in makes no session and no token.
 */
import { FleetpassError, isFleetpassError } from '../../shared/errors';
import type { Principal } from '../access/authenticate';
import { issueApiToken } from '../access/api-tokens';
import { roleForGroups, type AuthConfig, type OidcConfig } from '../access/auth-config';
import type { DeviceSignIn, RelyingParty, VerifiedIdentity } from '../access/oidc-relying-party';
import { assertOperatorName } from '../access/operators';
import type { OperatorRecord } from '../store/operators-repo';
import type { ServiceContext } from './context';

/** What the console's sign-in page offers. */
export interface SignInOptions {
  tokenSignIn: boolean;
  /** "Sign in with <provider>", when auth.oidc is set. */
  provider?: string;
}

export interface DeviceLoginResult {
  principal: Principal;
  token: string;
  tokenId: string;
  expires: Date;
}

/** The provider's user name as an operator name: lower case, other characters "-", starting with a letter. */
export function operatorNameFor(value: string): string {
  let n = value
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-');
  if (!/^[a-z]/.test(n)) n = `u-${n}`;
  return n.slice(0, 64);
}

function stringClaim(claims: Record<string, unknown>, name: string): string | undefined {
  const v = claims[name];
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

export function signInService(ctx: ServiceContext) {
  const { operators: repo, clock } = ctx;
  const auth: AuthConfig = ctx.auth;
  const rp: RelyingParty | undefined = ctx.relyingParty;

  function configured(): { rp: RelyingParty; o: OidcConfig } {
    if (!rp || !auth.oidc) throw new FleetpassError('FP_OIDC_NOT_CONFIGURED');
    return { rp, o: auth.oidc };
  }

  /** Audits a refused sign-in (fail closed: refused whether or not it could be recorded) and returns the error. */
  function refused(e: unknown, facts: { via: string; source: string; identity?: VerifiedIdentity }): unknown {
    const err = isFleetpassError(e) ? e : new FleetpassError('FP_INTERNAL', undefined, { cause: e });
    const why = (err.details as { why?: string } | undefined)?.why ?? '';
    try {
      ctx.audited((a) =>
        a.append({
          actor: 'unauthenticated',
          action: 'auth.failed',
          outcome: 'refused',
          details: {
            method: 'oidc',
            via: facts.via,
            source: facts.source,
            code: err.code,
            why,
            issuer: facts.identity?.issuer ?? auth.oidc?.issuer ?? '',
            subject: facts.identity?.subject ?? '',
          },
        }),
      );
    } catch (auditErr) {
      ctx.log.error({ err: auditErr, code: err.code }, 'cannot audit a refused sign-in');
    }
    ctx.log.warn({ via: facts.via, source: facts.source, code: err.code, why }, 'identity provider sign-in refused');
    if (err.code === 'FP_INTERNAL') ctx.log.error({ err: e }, 'identity provider sign-in failed');
    return err;
  }

  /**
   * The operator a verified identity is, with the role its groups give now; creates or updates the
   * record and audits the sign-in (and any role change) in one transaction.
   */
  function admit(identity: VerifiedIdentity, via: 'web' | 'cli', source: string): OperatorRecord {
    const { o } = configured();
    const { claims } = identity;
    const userValue = stringClaim(claims, o.userClaim);
    if (!userValue)
      throw new FleetpassError(
        'FP_OIDC_TOKEN_INVALID',
        `the identity provider sent no "${o.userClaim}" claim (auth.oidc.userClaim) to name you by`,
        { details: { why: 'user-claim-missing' } },
      );
    if (o.allowedDomains) {
      const email = stringClaim(claims, 'email') ?? (userValue.includes('@') ? userValue : undefined);
      const domainOf = email?.slice(email.lastIndexOf('@') + 1).toLowerCase();
      if (!domainOf || claims.email_verified === false || !o.allowedDomains.includes(domainOf))
        throw new FleetpassError('FP_OIDC_DOMAIN_NOT_ALLOWED', undefined, {
          details: { why: `domain-${domainOf ?? 'none'}` },
        });
    }
    const raw = claims[o.groupsClaim];
    const groups = typeof raw === 'string' ? [raw] : raw;
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string'))
      throw new FleetpassError(
        'FP_OIDC_GROUPS_MISSING',
        `the identity provider sent no "${o.groupsClaim}" claim (auth.oidc.groupsClaim) listing your groups; ask IT to release it to fleetpass`,
        { details: { why: raw === undefined ? 'groups-claim-missing' : 'groups-claim-not-a-list' } },
      );
    const existing = repo.getByIdentity(identity.issuer, identity.subject);
    const mapped = roleForGroups(o.groupRoles, groups as string[]);
    if (!mapped) {
      // Off-boarding by group: whatever CLI session the person still holds ends now.
      if (existing) {
        const revoked = ctx.audited((a) => {
          const n = repo.revokeSessionTokensOf(existing.name);
          if (n > 0)
            a.append({
              actor: `oidc:${identity.issuer}`,
              action: 'token.revoked',
              outcome: 'ok',
              details: { operator: existing.name, sessionTokens: n, why: 'no-mapped-group' },
            });
          return n;
        });
        ctx.log.info({ operator: existing.name, revoked }, 'no mapped group: session tokens revoked');
      }
      throw new FleetpassError(
        'FP_OIDC_NO_ROLE',
        `none of your groups at the identity provider (${(groups as string[]).slice(0, 10).join(', ') || 'none'}) maps to a fleetpass role; ask IT to add you to one listed in auth.oidc.groupRoles`,
        { details: { why: 'no-mapped-group' } },
      );
    }
    const displayName = (stringClaim(claims, 'name') ?? userValue).slice(0, 200);
    const roleSource = `group:${mapped.group}`;
    const now = clock.now().toISOString();
    return ctx.audited((a) => {
      let op = existing;
      if (!op) {
        const name = operatorNameFor(userValue);
        try {
          assertOperatorName(name);
        } catch {
          throw new FleetpassError(
            'FP_OIDC_IDENTITY_CONFLICT',
            `the identity provider's user name ${JSON.stringify(userValue.slice(0, 64))} cannot be an operator name`,
            { details: { why: 'name-invalid' } },
          );
        }
        if (repo.get(name))
          throw new FleetpassError(
            'FP_OIDC_IDENTITY_CONFLICT',
            `an operator named "${name}" already exists and is not this person at the identity provider; ask an admin to rename or disable it`,
            { details: { why: 'name-taken' } },
          );
        repo.insertFromProvider({
          name,
          role: mapped.role,
          roleSource,
          issuer: identity.issuer,
          subject: identity.subject,
          displayName,
          now,
        });
        a.append({
          actor: `oidc:${identity.issuer}`,
          action: 'operator.created',
          outcome: 'ok',
          details: { operator: name, role: mapped.role, roleSource, subject: identity.subject, displayName },
        });
        op = repo.get(name)!;
      } else {
        if (op.disabled)
          throw new FleetpassError(
            'FP_UNAUTHENTICATED',
            'your operator account is disabled in fleetpass; ask an admin',
            {
              details: { why: 'operator-disabled' },
            },
          );
        if (op.role !== mapped.role || op.roleSource !== roleSource || op.displayName !== displayName) {
          repo.setProviderRole(op.name, mapped.role, roleSource, displayName, now);
          if (op.role !== mapped.role || op.roleSource !== roleSource)
            a.append({
              actor: `oidc:${identity.issuer}`,
              action: 'operator.role_changed',
              outcome: 'ok',
              details: { operator: op.name, from: op.role, to: mapped.role, fromSource: op.roleSource, roleSource },
            });
          op = repo.get(op.name)!;
        }
      }
      a.append({
        actor: op.name,
        action: 'auth.signed_in',
        outcome: 'ok',
        details: {
          method: 'oidc',
          via,
          source,
          issuer: identity.issuer,
          subject: identity.subject,
          role: op.role,
          roleSource: op.roleSource,
          groups: (groups as string[]).slice(0, 50),
        },
      });
      return op;
    });
  }

  return {
    signInOptions: (): SignInOptions => ({ tokenSignIn: auth.tokenSignIn, provider: rp?.name }),

    /** The console URL the provider redirects back to (FP_OIDC_NOT_CONFIGURED without a provider). */
    providerRedirectUrl: (): string => configured().rp.redirectUrl(),

    /** FP_TOKEN_SIGNIN_DISABLED (audited) when the console may not take API tokens. */
    assertTokenSignIn(source: string): void {
      if (auth.tokenSignIn) return;
      try {
        ctx.audited((a) =>
          a.append({
            actor: 'unauthenticated',
            action: 'auth.failed',
            outcome: 'refused',
            details: { method: 'token', via: 'web', source, code: 'FP_TOKEN_SIGNIN_DISABLED' },
          }),
        );
      } catch (err) {
        ctx.log.error({ err }, 'cannot audit a refused token sign-in');
      }
      throw new FleetpassError('FP_TOKEN_SIGNIN_DISABLED');
    },

    /** Starts a console sign-in at the provider: where to send the browser, and the state to bind to it. */
    async beginProviderSignIn(source: string): Promise<{ url: string; state: string }> {
      try {
        return await configured().rp.beginBrowser();
      } catch (e) {
        throw refused(e, { via: 'web', source });
      }
    },

    /** Finishes a console sign-in from the provider's redirect; the principal to open a session for. */
    async finishProviderSignIn(input: {
      callbackUrl: URL;
      boundState: string | undefined;
      source: string;
    }): Promise<Principal> {
      let identity: VerifiedIdentity | undefined;
      try {
        identity = await configured().rp.finishBrowser(input.callbackUrl, input.boundState);
        const op = admit(identity, 'web', input.source);
        return { name: op.name, role: op.role, via: 'session' };
      } catch (e) {
        throw refused(e, { via: 'web', source: input.source, identity });
      }
    },

    /** `fleetpass login`: starts a device sign-in at the provider (no credential needed to call it). */
    async beginDeviceLogin(source: string): Promise<DeviceSignIn> {
      try {
        return await configured().rp.beginDevice();
      } catch (e) {
        throw refused(e, { via: 'cli', source });
      }
    },

    /**
     * `fleetpass login`, once the user approved at the provider: a short-lived session token for the
     * admin API (an API token of kind "session", auth.oidc.cliTokenSeconds, at most sessionMaxAgeSeconds).
     */
    async finishDeviceLogin(id: string, source: string, waitMs: number): Promise<DeviceLoginResult | 'pending'> {
      let identity: VerifiedIdentity | 'pending' | undefined;
      try {
        const { rp: party, o } = configured();
        identity = await party.awaitDevice(id, waitMs);
        if (identity === 'pending') return 'pending';
        const op = admit(identity, 'cli', source);
        const ttl = Math.min(o.cliTokenSeconds, auth.sessionMaxAgeSeconds);
        const issued = ctx.audited((a) => {
          const t = issueApiToken(repo, op.name, {
            createdBy: op.name,
            ttlSeconds: ttl,
            now: clock.now(),
            kind: 'session',
          });
          a.append({
            actor: op.name,
            action: 'token.created',
            outcome: 'ok',
            details: { operator: op.name, tokenId: t.id, expires: t.expires!.toISOString(), kind: 'session' },
          });
          return t;
        });
        return {
          principal: { name: op.name, role: op.role, via: 'token', tokenId: issued.id },
          token: issued.token,
          tokenId: issued.id,
          expires: issued.expires!,
        };
      } catch (e) {
        throw refused(e, { via: 'cli', source, identity: identity === 'pending' ? undefined : identity });
      }
    },

    /** `fleetpass logout`: revokes the session token the call came with (an API token made by hand stays). */
    logout(p: Principal): { revoked: boolean } {
      const t = p.tokenId ? repo.getToken(p.tokenId) : undefined;
      const revoke = !!t && t.kind === 'session' && t.operator === p.name;
      return ctx.audited((a) => {
        const done = revoke && repo.revokeToken(t.id);
        a.append({
          actor: p.name,
          action: 'auth.signed_out',
          outcome: 'ok',
          details: { via: 'cli', tokenId: p.tokenId ?? '', tokenKind: t?.kind ?? '', revoked: done },
        });
        return { revoked: done };
      });
    },

    /** The kind of the token a principal signed in with ('session', 'api'), or '' for none. */
    tokenKindOf: (p: Principal): string => (p.tokenId ? (repo.getToken(p.tokenId)?.kind ?? '') : ''),
  };
}
