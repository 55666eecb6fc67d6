/**
 * Operators and their credentials: who is calling (API token or operator certificate, every failure
 * audited, floods summarised), who am I, add and disable operators, API tokens (anyone for themselves;
 * an admin hands another operator only their first), and whether a web session's token still works.
 */
import { FleetpassError } from '../../shared/errors';
import { createAuthenticator, type Credentials, type Principal } from '../access/authenticate';
import { issueApiToken } from '../access/api-tokens';
import { createOperator, disableOperator } from '../access/operators';
import { isRole, type Permission } from '../access/roles';
import type { OperatorRecord, OperatorRole } from '../store/operators-repo';
import type { ServiceContext } from './context';

/** Default and longest lifetime of an API token. */
export const DEFAULT_TOKEN_TTL_SECONDS = 90 * 86_400;
export const MAX_TOKEN_TTL_SECONDS = 366 * 86_400;

export function operatorsService(ctx: ServiceContext) {
  const { operators: repo, rules, clock } = ctx;
  const authenticator = createAuthenticator({
    repo,
    caPem: ctx.caPem,
    clock,
    log: ctx.log,
    limits: ctx.floodLimits,
    audit: (entry) => void ctx.audited((a) => a.append(entry)),
  });
  const operatorDeps = { repo, audited: ctx.audited, now: () => clock.now() };

  return {
    /** Authenticates a call's credentials (token or operator certificate); audits failures. */
    authenticate: (creds: Credentials): Principal => authenticator.authenticate(creds),
    /** The current principal for an operator a session already proved (web console); fails when disabled. */
    principalFor: (name: string, via: Principal['via'], source?: string, tokenId?: string): Principal =>
      authenticator.principalFor(name, via, source, tokenId),
    /** Writes the summaries of open authentication-failure windows (at shutdown). */
    flushAuthAudit: (): void => authenticator.flush(),
    /** The role check alone, for callers that must hide what a role cannot do (the web console's buttons). */
    allows: (p: Principal, permission: Permission): boolean => rules.allows(p, permission),
    /** False once the token a session was opened with is revoked, expired or gone (sessions without one: true). */
    tokenStillValid(tokenId: string | undefined): boolean {
      if (!tokenId) return true;
      const t = repo.getToken(tokenId);
      return !!t && !t.revoked && (!t.expires || new Date(t.expires).getTime() > clock.now().getTime());
    },
    whoAmI(p: Principal): OperatorRecord {
      const op = repo.get(p.name);
      if (!op || op.disabled) throw new FleetpassError('FP_UNAUTHENTICATED');
      return op;
    },
    createOperator(p: Principal, input: { name: string; role: OperatorRole }): OperatorRecord {
      rules.authorize(p, 'operators.manage', 'adding operators', { details: { operator: input.name } });
      if (!isRole(input.role))
        throw new FleetpassError('FP_INVALID_ARGUMENT', 'the role must be viewer, operator, approver or admin');
      return createOperator(operatorDeps, { name: input.name, role: input.role, by: p.name });
    },
    listOperators(p: Principal): OperatorRecord[] {
      rules.authorize(p, 'operators.manage', 'listing operators');
      return repo.list();
    },
    disableOperator(p: Principal, name: string): OperatorRecord {
      rules.authorize(p, 'operators.manage', 'disabling operators', { details: { operator: name } });
      return disableOperator(operatorDeps, { name, by: p.name });
    },
    /**
     * A new API token, shown once; `ttlSeconds` 0 means the default (90 days). Anyone may make tokens for
     * themselves; an admin may hand another operator only their first one (none active yet), out of band,
     * so an admin can never sign in as an operator who already works with fleetpass. The new token records
     * who could hold it: its owner, its maker, and whoever could hold the credential it was made with.
     */
    createApiToken(
      p: Principal,
      input: { operator: string; ttlSeconds?: number },
    ): { id: string; token: string; expires: Date | null } {
      const self = input.operator === p?.name;
      if (self) rules.authorize(p, 'tokens.own', 'creating API tokens for yourself');
      else
        rules.authorize(p, 'tokens.manage', 'creating API tokens for other operators', {
          details: { operator: input.operator },
        });
      const ttl = input.ttlSeconds || DEFAULT_TOKEN_TTL_SECONDS;
      if (!Number.isInteger(ttl) || ttl < 60 || ttl > MAX_TOKEN_TTL_SECONDS)
        throw new FleetpassError(
          'FP_INVALID_ARGUMENT',
          `a token lives 60 seconds to ${MAX_TOKEN_TTL_SECONDS / 86_400} days`,
        );
      const op = repo.get(input.operator);
      if (!op)
        throw new FleetpassError(
          'FP_NOT_FOUND',
          `no operator named ${JSON.stringify(String(input.operator).slice(0, 64))}`,
        );
      if (op.disabled) throw new FleetpassError('FP_INVALID_ARGUMENT', `the operator "${op.name}" is disabled`);
      const now = clock.now();
      if (!self) {
        const active = repo
          .tokensOf(op.name)
          .filter((t) => !t.revoked && (!t.expires || new Date(t.expires).getTime() > now.getTime()));
        if (active.length > 0) {
          throw rules.refusal(
            p,
            'creating an API token for another operator',
            new FleetpassError(
              'FP_TOKEN_HANDED_OVER',
              `${op.name} already has ${active.length} active API token(s); only ${op.name} can make more`,
            ),
            {
              details: { operator: op.name, activeTokens: active.map((t) => t.id) },
            },
          );
        }
      }
      return ctx.audited((audit) => {
        const issued = issueApiToken(repo, op.name, {
          createdBy: p.name,
          ttlSeconds: ttl,
          now,
          knownTo: rules.holdersOf(p),
        });
        audit.append({
          actor: p.name,
          action: 'token.created',
          outcome: 'ok',
          details: {
            operator: op.name,
            tokenId: issued.id,
            expires: issued.expires?.toISOString() ?? '',
            handedOver: !self,
          },
        });
        return issued;
      });
    },
  };
}
