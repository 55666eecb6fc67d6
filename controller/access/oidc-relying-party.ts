/**
 * fleetpass as an OpenID Connect relying party, through `openid-client` (the certified library): discovery
 * of the issuer, the authorization code flow with PKCE, state and nonce for the console, and the device
 * authorization grant (RFC 8628) for `fleetpass login`. openid-client checks the ID token's signature
 * (non-repudiation checks on, so a token from the token endpoint is verified too), issuer, audience,
 * expiry and nonce. What it proves is returned as verified claims; who that is in fleetpass (operator,
 * role) is the service layer's decision. Every failure becomes one FP_OIDC_* error with a `why` for the
 * audit. openid-client is ESM-only: it is loaded on first use (esbuild bundles it into the programs).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type * as OpenIdClient from 'openid-client';
import { FleetpassError, type ErrorCode } from '../../shared/errors';
import type { Clock } from '../../shared/clock';
import type { OidcConfig } from './auth-config';

/** What the provider proved: its issuer, the user's subject, and the claims of the ID token (plus userinfo). */
export interface VerifiedIdentity {
  issuer: string;
  subject: string;
  claims: Record<string, unknown>;
}

export interface DeviceSignIn {
  /** A random handle only the CLI that started the sign-in knows; it finishes the sign-in with it. */
  id: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string;
  expiresInSeconds: number;
  intervalSeconds: number;
}

/** The states of browser sign-ins and device sign-ins kept at once (the oldest is dropped first). */
const MAX_PENDING = 1000;

type Client = typeof OpenIdClient;

interface PendingBrowser {
  verifier: string;
  nonce: string;
  expires: number;
}

interface PendingDevice {
  expires: number;
  result: Promise<VerifiedIdentity>;
  settled?: { ok: true; identity: VerifiedIdentity } | { ok: false; error: unknown };
}

/** The first `code`, `claim` or `attribute` found down an error's cause chain. */
function dig(e: unknown, key: 'code' | 'claim' | 'attribute' | 'error'): string | undefined {
  for (let cur = e, depth = 0; cur && depth < 6; cur = (cur as { cause?: unknown }).cause, depth++) {
    const v = (cur as Record<string, unknown>)[key];
    if (typeof v === 'string') return v;
  }
  return undefined;
}

/** Maps an openid-client failure to one FP_OIDC_* error; `why` says which check failed (for the audit). */
export function oidcFailure(e: unknown): FleetpassError {
  if (e instanceof FleetpassError) return e;
  const code = dig(e, 'code') ?? '';
  const claim = dig(e, 'claim');
  const attribute = dig(e, 'attribute');
  const oauthError = dig(e, 'error');
  let fp: ErrorCode = 'FP_OIDC_PROVIDER_UNAVAILABLE';
  let why = code || (e instanceof Error ? e.message.slice(0, 120) : 'unknown');
  if (code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' && attribute === 'issuer') {
    fp = 'FP_OIDC_ISSUER_MISMATCH';
    why = 'discovery-issuer';
  } else if (code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' && claim === 'iss') {
    fp = 'FP_OIDC_ISSUER_MISMATCH';
    why = 'id-token-issuer';
  } else if (code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED') {
    fp = 'FP_OIDC_TOKEN_INVALID';
    why = `id-token-${claim ?? 'claim'}`;
  } else if (code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED') {
    fp = 'FP_OIDC_TOKEN_INVALID';
    why = `id-token-${claim ?? 'time'}`;
  } else if (
    code === 'OAUTH_KEY_SELECTION_FAILED' ||
    code === 'OAUTH_INVALID_RESPONSE' ||
    code === 'OAUTH_PARSE_ERROR' ||
    /signature/i.test(e instanceof Error ? e.message : '') ||
    code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
  ) {
    fp = 'FP_OIDC_TOKEN_INVALID';
    why = code === 'OAUTH_KEY_SELECTION_FAILED' ? 'id-token-key' : 'id-token-signature-or-shape';
  } else if (code === 'OAUTH_AUTHORIZATION_RESPONSE_ERROR' || code === 'OAUTH_RESPONSE_BODY_ERROR') {
    fp = oauthError === 'expired_token' ? 'FP_OIDC_STATE_INVALID' : 'FP_OIDC_DENIED';
    why = `provider-${oauthError ?? 'error'}`;
  } else if (e instanceof Error && e.name === 'AbortError') {
    fp = 'FP_OIDC_STATE_INVALID';
    why = 'device-code-expired';
  }
  return new FleetpassError(fp, undefined, { cause: e, details: { why } });
}

export type RelyingParty = ReturnType<typeof createRelyingParty>;

export interface RelyingPartyDeps {
  config: OidcConfig;
  /** Where the provider sends the browser back (https://<console>/auth/oidc/callback). */
  redirectUrl: () => string;
  clock: Clock;
  /** Loads openid-client (a dynamic import; tests of the bundled programs use the real one). */
  load?: () => Promise<Client>;
}

function readSecret(o: OidcConfig): string {
  if (o.clientSecret) return o.clientSecret;
  try {
    const s = readFileSync(o.clientSecretFile!, 'utf8').trim();
    if (!s) throw new Error('the file is empty');
    return s;
  } catch (e) {
    throw new FleetpassError(
      'FP_CONFIG_INVALID',
      `auth.oidc.clientSecretFile: cannot read the client secret from ${o.clientSecretFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { cause: e },
    );
  }
}

export function createRelyingParty(deps: RelyingPartyDeps) {
  const { config: o, clock } = deps;
  // Read at start, so a missing secret file stops the controller with its name.
  const secret = readSecret(o);
  const load = deps.load ?? (() => import('openid-client'));
  const browser = new Map<string, PendingBrowser>();
  const devices = new Map<string, PendingDevice>();
  let discovered: Promise<{ lib: Client; config: OpenIdClient.Configuration }> | undefined;
  const ttlMs = o.loginTimeoutSeconds * 1000;

  /** Discovery once; a failure is forgotten so the next sign-in tries again (the provider may be back). */
  function provider(): Promise<{ lib: Client; config: OpenIdClient.Configuration }> {
    discovered ??= (async () => {
      const lib = await load();
      const config = await lib.discovery(
        new URL(o.issuer),
        o.clientId,
        { redirect_uris: [deps.redirectUrl()] },
        lib.ClientSecretPost(secret),
        {
          timeout: 15,
        },
      );
      lib.enableNonRepudiationChecks(config);
      return { lib, config };
    })();
    discovered.catch(() => (discovered = undefined));
    return discovered.catch((e: unknown) => {
      throw oidcFailure(e);
    });
  }

  function remember<T extends { expires: number }>(map: Map<string, T>, key: string, value: T): void {
    const now = clock.now().getTime();
    for (const [k, v] of map) if (v.expires <= now) map.delete(k);
    if (map.size >= MAX_PENDING) map.delete(map.keys().next().value as string);
    map.set(key, value);
  }

  /** The ID token's claims, and the userinfo's when the groups claim is not in the token. */
  async function identityFrom(
    lib: Client,
    config: OpenIdClient.Configuration,
    tokens: OpenIdClient.TokenEndpointResponse & OpenIdClient.TokenEndpointResponseHelpers,
  ): Promise<VerifiedIdentity> {
    const claims = tokens.claims();
    if (!claims) throw new FleetpassError('FP_OIDC_TOKEN_INVALID', undefined, { details: { why: 'no-id-token' } });
    const all: Record<string, unknown> = { ...claims };
    if (all[o.groupsClaim] === undefined && config.serverMetadata().userinfo_endpoint && tokens.access_token) {
      const info = await lib.fetchUserInfo(config, tokens.access_token, claims.sub);
      for (const [k, v] of Object.entries(info)) if (all[k] === undefined) all[k] = v;
    }
    return { issuer: claims.iss, subject: claims.sub, claims: all };
  }

  return {
    name: o.name,
    issuer: o.issuer,
    redirectUrl: deps.redirectUrl,

    /** Starts a console sign-in: the provider URL to send the browser to, and the state to bind to it. */
    async beginBrowser(): Promise<{ url: string; state: string }> {
      const { lib, config } = await provider();
      const verifier = lib.randomPKCECodeVerifier();
      const state = lib.randomState();
      const nonce = lib.randomNonce();
      const url = lib.buildAuthorizationUrl(config, {
        redirect_uri: deps.redirectUrl(),
        scope: o.scopes.join(' '),
        code_challenge: await lib.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      remember(browser, state, { verifier, nonce, expires: clock.now().getTime() + ttlMs });
      return { url: url.href, state };
    },

    /**
     * Finishes a console sign-in from the URL the provider sent the browser back to. `boundState` is the
     * state the browser's own cookie names: it must be the one in the URL (no one else's sign-in), known,
     * unused and not expired; it is used up here whatever happens next.
     */
    async finishBrowser(callbackUrl: URL, boundState: string | undefined): Promise<VerifiedIdentity> {
      const state = callbackUrl.searchParams.get('state') ?? '';
      const pending = state ? browser.get(state) : undefined;
      if (pending) browser.delete(state);
      if (!pending || !boundState || boundState !== state) {
        throw new FleetpassError('FP_OIDC_STATE_INVALID', undefined, {
          details: { why: !pending ? 'state-unknown-or-used' : 'state-not-this-browser' },
        });
      }
      if (pending.expires <= clock.now().getTime())
        throw new FleetpassError('FP_OIDC_STATE_INVALID', undefined, { details: { why: 'state-expired' } });
      const { lib, config } = await provider();
      try {
        const tokens = await lib.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: pending.verifier,
          expectedNonce: pending.nonce,
          expectedState: state,
          idTokenExpected: true,
        });
        return await identityFrom(lib, config, tokens);
      } catch (e) {
        throw oidcFailure(e);
      }
    },

    /** Starts a device sign-in (RFC 8628) at the provider and keeps polling its token endpoint. */
    async beginDevice(): Promise<DeviceSignIn> {
      const { lib, config } = await provider();
      let response: OpenIdClient.DeviceAuthorizationResponse;
      try {
        response = await lib.initiateDeviceAuthorization(config, { scope: o.scopes.join(' ') });
      } catch (e) {
        throw oidcFailure(e);
      }
      const expiresIn = Math.min(response.expires_in, o.loginTimeoutSeconds);
      const signal = AbortSignal.timeout(expiresIn * 1000);
      const id = randomBytes(32).toString('base64url');
      const pending: PendingDevice = {
        expires: clock.now().getTime() + expiresIn * 1000,
        result: lib
          .pollDeviceAuthorizationGrant(config, response, undefined, { signal })
          .then((tokens) => identityFrom(lib, config, tokens)),
      };
      pending.result.then(
        (identity) => (pending.settled = { ok: true, identity }),
        (error: unknown) => (pending.settled = { ok: false, error }),
      );
      remember(devices, id, pending);
      return {
        id,
        userCode: response.user_code,
        verificationUri: response.verification_uri,
        verificationUriComplete: response.verification_uri_complete ?? '',
        expiresInSeconds: expiresIn,
        intervalSeconds: response.interval ?? 5,
      };
    },

    /**
     * The identity of a device sign-in once the user approved it at the provider, or 'pending' after
     * waiting up to `waitMs`. A finished sign-in is handed out once (then forgotten).
     */
    async awaitDevice(id: string, waitMs: number): Promise<VerifiedIdentity | 'pending'> {
      const pending = devices.get(id);
      if (!pending)
        throw new FleetpassError('FP_OIDC_STATE_INVALID', undefined, { details: { why: 'device-unknown-or-used' } });
      if (!pending.settled) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          pending.result.catch(() => undefined),
          new Promise((r) => (timer = setTimeout(r, waitMs))),
        ]);
        clearTimeout(timer);
      }
      const settled = pending.settled;
      if (!settled) return 'pending';
      devices.delete(id);
      if (!settled.ok) throw oidcFailure(settled.error);
      return settled.identity;
    },
  };
}
