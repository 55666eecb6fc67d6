/**
 * The rules every domain of the service layer applies, written once: the role check (anything not
 * granted is refused), the second-person rule, required reasons and bounded notes, each refusal audited
 * (access/refusal). Fail closed: an unknown role or a missing principal is refused.
 */
import { FleetpassError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import { textProblem, type TextRules } from '../../shared/validation/text';
import type { Principal } from '../access/authenticate';
import { recordRefusal, type RefusalFacts } from '../access/refusal';
import { isRole, roleAllows, type Permission } from '../access/roles';
import type { AuditLog } from '../audit';
import { MAX_REASON_LENGTH } from '../dispatch/request-rules';
import type { Db } from '../store';
import type { OperatorsRepo } from '../store/operators-repo';

export const NOTE_RULES: TextRules = { max: 1000 };

/** Reasons and notes are stored and shown again: plain printable text of bounded length (FP_INVALID_ARGUMENT). */
export function assertText(what: string, text: string, rules: TextRules): void {
  const problem = textProblem(what, text, rules);
  if (problem) throw new FleetpassError('FP_INVALID_ARGUMENT', problem);
}

/** The trimmed reason; FP_REASON_REQUIRED when there is none. */
export function requiredReason(reason: string | undefined): string {
  const r = reason?.trim() ?? '';
  if (!r) throw new FleetpassError('FP_REASON_REQUIRED');
  assertText('the reason', r, { max: MAX_REASON_LENGTH });
  return r;
}

export type Rules = ReturnType<typeof createRules>;

export function createRules(deps: { db: Db; audit: AuditLog; log: Logger; operators: OperatorsRepo }) {
  const { operators: repo } = deps;

  /** Audits a refusal and returns the error to throw. */
  function refusal(p: Principal, what: string, error: FleetpassError, facts: RefusalFacts = {}): FleetpassError {
    return recordRefusal(deps, p, what, error, facts);
  }

  /** True when the principal's role grants `permission` (no audit: for hiding what a role cannot do). */
  function allows(p: Principal, permission: Permission): boolean {
    return !!p && isRole(p.role) && roleAllows(p.role, permission);
  }

  /** Throws FP_FORBIDDEN (audited) unless the principal's role grants `permission`. */
  function authorize(p: Principal, permission: Permission, what: string, facts?: RefusalFacts): void {
    if (!allows(p, permission)) {
      throw refusal(
        p,
        what,
        new FleetpassError('FP_FORBIDDEN', `your role (${p?.role ?? 'none'}) does not allow ${what}`),
        { ...facts, details: { permission, ...facts?.details } },
      );
    }
  }

  /**
   * The second-person rule: only an approver who did not ask may decide, and not one the requester set up
   * (created their operator record) or whose token the requester could hold (handed it over, or it was made
   * with a credential the requester could hold): those would be the requester deciding under another name.
   * For operators who sign in through the identity provider, the provider's subject names the person: an
   * approver with the requester's issuer and subject is the requester.
   * Audits refusals.
   */
  function assertMayDecide(p: Principal, requestedBy: string, what: string, facts: RefusalFacts = {}): void {
    authorize(p, 'requests.decide', what, facts);
    if (p.name === requestedBy) throw refusal(p, what, new FleetpassError('FP_SELF_APPROVAL'), facts);
    const me = repo.get(p.name);
    const createdBy = me?.createdBy;
    const requester = repo.get(requestedBy);
    const token = p.tokenId ? repo.getToken(p.tokenId) : undefined;
    // Provider users are people the provider tells apart: the same issuer and subject is the same person.
    const samePerson =
      !!me?.idpSubject && me.idpIssuer === requester?.idpIssuer && me.idpSubject === requester?.idpSubject;
    const why = samePerson
      ? `${p.name} and ${requestedBy} are the same person at the identity provider (subject ${me.idpSubject})`
      : createdBy === requestedBy
        ? `${requestedBy} created the operator ${p.name}`
        : token?.knownTo.includes(requestedBy)
          ? `${requestedBy} could hold the token ${token.id} that ${p.name} signed in with`
          : undefined;
    if (why) {
      throw refusal(
        p,
        what,
        new FleetpassError(
          'FP_APPROVER_NOT_INDEPENDENT',
          `${why}, so this would not be a second person deciding; ask an approver ${requestedBy} did not set up or hand a token to`,
        ),
        {
          ...facts,
          reason: why,
          details: {
            ...facts.details,
            requestedBy,
            operatorCreatedBy: createdBy ?? '',
            tokenId: token?.id ?? '',
            tokenKnownTo: token?.knownTo ?? [],
          },
        },
      );
    }
  }

  /** Who could hold the credential behind `p`: the token's holders, or only `p` (certificate, local). */
  function holdersOf(p: Principal): string[] {
    const token = p.tokenId ? repo.getToken(p.tokenId) : undefined;
    return token ? token.knownTo : [p.name];
  }

  return { refusal, allows, authorize, assertMayDecide, holdersOf };
}
