/**
 * Who is calling the admin API: an operator API token ("authorization: Bearer fpt_...") or, without a
 * token, an operator client certificate (see operator-certs). A bad token never falls back to the
 * certificate. The operator must exist and be enabled at every call, so disabling takes effect at once.
 * Every failure is audited; a flood from one source is summarised instead of writing one record per
 * attempt, and a source that keeps failing is refused without checking (FP_RATE_LIMITED) until its
 * window ends.
 */
import type { PeerCertificate } from 'node:tls';
import { FleetpassError } from '../../shared/errors';
import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import type { AuditEntry } from '../audit';
import { peerAddress } from '../server/peer-address';
import type { OperatorRole, OperatorsRepo } from '../store/operators-repo';
import { checkApiToken } from './api-tokens';
import { checkOperatorCertificate } from './operator-certs';

/** An authenticated operator: what every service-layer function takes first. */
export interface Principal {
  /** The operator name; the actor in every audit record. */
  readonly name: string;
  readonly role: OperatorRole;
  /** How the caller proved who they are ("session" is the web console's, "local" the controller host's). */
  readonly via: 'token' | 'certificate' | 'session' | 'local';
  /** The API token id, when signed in with a token (directly, or to open the web console session). */
  readonly tokenId?: string;
}

export interface Credentials {
  /** The `authorization` metadata value, e.g. "Bearer fpt_...". */
  authorization?: string;
  /** The TLS client certificate, when the caller sent one. */
  peerCertificate?: PeerCertificate;
  /** Where the call came from (peer address); keys the rate limit. */
  source: string;
  /** What the caller tried (e.g. the RPC name), for the audit record. */
  what?: string;
}

export interface AuthenticatorDeps {
  repo: OperatorsRepo;
  caPem: string;
  clock: Clock;
  log: Logger;
  /** Appends one audit record in its own transaction. */
  audit: (entry: AuditEntry) => void;
  limits?: Partial<FloodLimits>;
}

export interface FloodLimits {
  windowMs: number;
  /** Failures per source and window written to the audit one by one; later ones are counted. */
  auditedPerWindow: number;
  /** Failures per source and window after which that source is refused unchecked. */
  blockAfter: number;
  /** Sources tracked at once (oldest forgotten first). */
  maxSources: number;
}

const DEFAULT_LIMITS: FloodLimits = { windowMs: 60_000, auditedPerWindow: 5, blockAfter: 30, maxSources: 10_000 };

interface Window {
  start: number;
  failures: number;
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

export function createAuthenticator(deps: AuthenticatorDeps) {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const windows = new Map<string, Window>();
  const log = deps.log;

  function safeAudit(entry: AuditEntry): void {
    try {
      deps.audit(entry);
    } catch (err) {
      log.error({ err, action: entry.action }, 'cannot audit an authentication failure');
    }
  }

  function summarise(key: string, w: Window): void {
    const suppressed = w.failures - limits.auditedPerWindow;
    if (suppressed > 0) {
      safeAudit({
        actor: 'unauthenticated',
        action: 'auth.failed',
        outcome: 'refused',
        details: {
          source: key,
          summary: true,
          failures: w.failures,
          notAuditedOneByOne: suppressed,
          windowStart: new Date(w.start).toISOString(),
        },
      });
    }
  }

  function windowFor(key: string, now: number): Window {
    let w = windows.get(key);
    if (w && now - w.start >= limits.windowMs) {
      summarise(key, w);
      windows.delete(key);
      w = undefined;
    }
    if (!w) {
      if (windows.size >= limits.maxSources) {
        const oldest = windows.keys().next().value as string;
        summarise(oldest, windows.get(oldest)!);
        windows.delete(oldest);
      }
      w = { start: now, failures: 0 };
      windows.set(key, w);
    }
    return w;
  }

  function refuse(creds: Credentials, why: string, facts: Record<string, unknown> = {}): never {
    // The source without its port, so reconnects share a window.
    const key = peerAddress(creds.source);
    const w = windowFor(key, deps.clock.now().getTime());
    w.failures++;
    if (w.failures <= limits.auditedPerWindow) {
      safeAudit({
        actor: 'unauthenticated',
        action: 'auth.failed',
        outcome: 'refused',
        details: { source: key, what: creds.what ?? '', why, ...facts },
      });
      log.warn({ source: key, what: creds.what, why, ...facts }, 'authentication failed');
    } else if (w.failures === limits.auditedPerWindow + 1) {
      log.warn(
        { source: key, windowMs: limits.windowMs },
        'authentication failures flood; counting the rest of this window',
      );
    }
    throw new FleetpassError('FP_UNAUTHENTICATED');
  }

  function operatorPrincipal(
    creds: Credentials,
    name: string,
    via: Principal['via'],
    facts: Record<string, unknown>,
  ): Principal {
    const op = deps.repo.get(name);
    if (!op) refuse(creds, 'unknown-operator', { ...facts, operator: name });
    if (op.disabled) refuse(creds, 'operator-disabled', { ...facts, operator: name });
    return { name: op.name, role: op.role, via, tokenId: facts.tokenId as string | undefined };
  }

  return {
    /** The principal behind a call's credentials; throws FP_UNAUTHENTICATED (audited) or FP_RATE_LIMITED. */
    authenticate(creds: Credentials): Principal {
      const now = deps.clock.now();
      const w = windows.get(peerAddress(creds.source));
      if (w && now.getTime() - w.start < limits.windowMs && w.failures >= limits.blockAfter) {
        w.failures++;
        throw new FleetpassError(
          'FP_RATE_LIMITED',
          'too many failed sign-ins from this address; wait a minute and try again',
        );
      }
      const auth = creds.authorization?.trim();
      if (auth) {
        const m = /^Bearer\s+(\S+)$/i.exec(auth);
        if (!m) refuse(creds, 'malformed-authorization', { method: 'token' });
        const check = checkApiToken(deps.repo, m[1], now);
        if (!check.ok) refuse(creds, `token-${check.why}`, { method: 'token', tokenId: check.id });
        return operatorPrincipal(creds, check.operator, 'token', { method: 'token', tokenId: check.id });
      }
      if (creds.peerCertificate?.raw) {
        const c = checkOperatorCertificate(creds.peerCertificate, deps.caPem, now);
        if (!c.ok) refuse(creds, `certificate-${c.why}`, { method: 'certificate' });
        return operatorPrincipal(creds, c.name, 'certificate', { method: 'certificate' });
      }
      return refuse(creds, 'no-credential', { method: 'none' });
    },

    /**
     * The principal for an operator the caller already authenticated (a web console session): re-read at
     * every request so a disabled operator or a changed role takes effect at once.
     */
    principalFor(name: string, via: Principal['via'], source = 'local', tokenId?: string): Principal {
      return operatorPrincipal({ source, what: 'session' }, name, via, { method: via, tokenId });
    },

    /** Writes the summaries of open flood windows (call at shutdown). */
    flush(): void {
      for (const [key, w] of windows) summarise(key, w);
      windows.clear();
    },
  };
}
