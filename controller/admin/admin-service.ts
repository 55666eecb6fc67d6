/**
 * The ONE set of authorized admin functions, `(principal, input) → result`, that the AdminService gRPC
 * handlers and the web console call. Roles (roles.ts), the account policy (policy.ts), approvals by a
 * second person, and the audit of every refusal live here, once; anything not explicitly allowed is
 * refused. Reads are not audited; every change and every refusal is.
 */
import { FleetpassError } from '../../shared/errors';
import type { Clock } from '../../shared/clock';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import type {
  CreateEnrollmentTokenRequest, DecideRevealRequest, EscrowStatusRequest, ListRevealsRequest, RevealPasswordRequest, RotatePasswordsRequest,
} from '../../shared/gen/fleetpass/v1/admin';
import type { Logger } from '../../shared/logger';
import { textProblem, type TextRules } from '../../shared/validation/text';
import type { AuditFilter, AuditPage, AuditQuery, AuditRecord, VerifyResult } from '../audit';
import type { ChangeRequestView, ControllerService, NodeSelection, NodeView, WatchUpdate, AccountView } from '../service';
import type { ChangeRequestRecord, ChangeRequestState, Db, NodeRecord } from '../store';
import { createOperatorsRepo, type OperatorRecord, type OperatorRole } from '../store/operators-repo';
import { issueApiToken } from './api-tokens';
import { formatExport, type ExportFormat } from './audit-export';
import { createAuthenticator, type Credentials, type FloodLimits, type Principal } from './authenticate';
import type { AdminExtensions } from './extensions';
import { createOperator, disableOperator } from './operators';
import type { Policy } from './policy';
import { MAX_REASON_LENGTH, planOperations, validateRequest, type RequestOperationsInput } from './request-operations';
import { isRole, roleAllows, type Permission } from './roles';

export interface AdminServiceDeps {
  service: ControllerService;
  db: Db;
  clock: Clock;
  log: Logger;
  policy: Policy;
  /** The controller CA (operator certificates are checked against it). */
  caPem: string;
  extensions?: AdminExtensions;
  floodLimits?: Partial<FloodLimits>;
}

export interface AccountListing extends AccountView {
  /** A change to this account needs a second person's approval. */
  privileged: boolean;
}

export interface RequestOperationsResult {
  dryRun: boolean;
  needsApproval: boolean;
  privileged: boolean;
  /** The nodes covered (or, for a dry run, that would be). */
  nodes: NodeRecord[];
  warnings: string[];
  /** The recorded request (undefined for a dry run). */
  request?: ChangeRequestView;
  /** Shown once, to the requester only; never stored in plaintext, logged or audited. */
  generatedPasswords: Array<{ nodeId: string; password: string }>;
}

/** Default and longest lifetime of an API token. */
export const DEFAULT_TOKEN_TTL_SECONDS = 90 * 86_400;
export const MAX_TOKEN_TTL_SECONDS = 366 * 86_400;

export type AdminService = ReturnType<typeof createAdminService>;

const NOTE_RULES: TextRules = { max: 1000 };

/** Reasons and notes are stored and shown again: plain printable text of bounded length (FP_INVALID_ARGUMENT). */
function assertText(what: string, text: string, rules: TextRules): void {
  const problem = textProblem(what, text, rules);
  if (problem) throw new FleetpassError('FP_INVALID_ARGUMENT', problem);
}

/** Builds the authorized service over the controller service and its data file. */
export function createAdminService(deps: AdminServiceDeps) {
  const { service, policy, clock } = deps;
  const log = deps.log;
  const repo = createOperatorsRepo(deps.db);
  const ext = deps.extensions ?? {};
  const authenticator = createAuthenticator({
    repo, caPem: deps.caPem, clock, log, limits: deps.floodLimits,
    audit: (entry) => void service.audit(entry),
  });
  const operatorDeps = { repo, audited: service.audited, now: () => clock.now() };

  /** Audits a refusal and returns the error to throw. */
  function refusal(p: Principal, what: string, error: FleetpassError, facts: { requestId?: string; nodeId?: string; account?: string; reason?: string; details?: Record<string, unknown> } = {}): FleetpassError {
    try {
      service.audit({
        actor: p.name, action: 'access.denied', outcome: 'refused', requestId: facts.requestId, nodeId: facts.nodeId, account: facts.account,
        reason: facts.reason, details: { what, code: error.code, role: p.role, via: p.via, ...facts.details },
      });
    } catch (err) {
      // Fail closed either way: the caller is refused whether or not the refusal could be recorded.
      log.error({ err, what, operator: p.name }, 'cannot audit a refusal');
    }
    log.warn({ operator: p.name, role: p.role, what, code: error.code }, 'admin call refused');
    return error;
  }

  /** Throws FP_FORBIDDEN (audited) unless the principal's role grants `permission`. */
  function authorize(p: Principal, permission: Permission, what: string, facts?: Parameters<typeof refusal>[3]): void {
    if (!p || !isRole(p.role) || !roleAllows(p.role, permission)) {
      throw refusal(p, what, new FleetpassError('FP_FORBIDDEN', `your role (${p?.role ?? 'none'}) does not allow ${what}`), { ...facts, details: { permission, ...facts?.details } });
    }
  }

  /** Who could hold the credential behind `p`: the token's holders, or only `p` (certificate, local). */
  function holdersOf(p: Principal): string[] {
    const token = p.tokenId ? repo.getToken(p.tokenId) : undefined;
    return token ? token.knownTo : [p.name];
  }

  /**
   * The second-person rule: only an approver who did not ask may decide, and not one the requester set up
   * (created their operator record) or whose token the requester could hold (handed it over, or it was made
   * with a credential the requester could hold): those would be the requester deciding under another name.
   * Audits refusals.
   */
  function assertMayDecide(p: Principal, requestedBy: string, what: string, facts: Parameters<typeof refusal>[3] = {}): void {
    authorize(p, 'requests.decide', what, facts);
    if (p.name === requestedBy) throw refusal(p, what, new FleetpassError('FP_SELF_APPROVAL'), facts);
    const createdBy = repo.get(p.name)?.createdBy;
    const token = p.tokenId ? repo.getToken(p.tokenId) : undefined;
    const why = createdBy === requestedBy ? `${requestedBy} created the operator ${p.name}` : token?.knownTo.includes(requestedBy) ? `${requestedBy} could hold the token ${token.id} that ${p.name} signed in with` : undefined;
    if (why) {
      throw refusal(p, what, new FleetpassError('FP_APPROVER_NOT_INDEPENDENT', `${why}, so this would not be a second person deciding; ask an approver ${requestedBy} did not set up or hand a token to`), {
        ...facts, reason: why, details: { ...facts.details, requestedBy, operatorCreatedBy: createdBy ?? '', tokenId: token?.id ?? '', tokenKnownTo: token?.knownTo ?? [] },
      });
    }
  }

  function requestOf(id: string): ChangeRequestRecord {
    return service.getChangeRequest(id).request;
  }

  function unsupported(what: string): FleetpassError {
    return new FleetpassError('FP_ACTION_UNSUPPORTED', `${what} is not available on this controller yet`);
  }

  return {
    // --- who ---
    /** Authenticates a call's credentials (token or operator certificate); audits failures. */
    authenticate: (creds: Credentials): Principal => authenticator.authenticate(creds),
    /** The current principal for an operator a session already proved (web console); fails when disabled. */
    principalFor: (name: string, via: Principal['via'], source?: string, tokenId?: string): Principal => authenticator.principalFor(name, via, source, tokenId),
    flushAuthAudit: (): void => authenticator.flush(),
    whoAmI(p: Principal): OperatorRecord {
      const op = repo.get(p.name);
      if (!op || op.disabled) throw new FleetpassError('FP_UNAUTHENTICATED');
      return op;
    },
    /** The role check alone, for callers that must hide what a role cannot do (the web console's buttons). */
    allows: (p: Principal, permission: Permission): boolean => isRole(p.role) && roleAllows(p.role, permission),
    policy,

    // --- fleet ---
    /** Every node when the selection is empty. */
    listNodes(p: Principal, selection?: NodeSelection): NodeView[] {
      authorize(p, 'fleet.read', 'listing nodes');
      const sel = selection ?? {};
      if (!sel.all && !sel.nodeIds?.length && !Object.keys(sel.labels ?? {}).length && !sel.lockedOnly) return service.listNodes({ includeRevoked: true });
      const picked = new Set(service.selectNodes(sel).map((n) => n.id));
      return service.listNodes({ includeRevoked: true }).filter((n) => picked.has(n.id));
    },
    listAccounts(p: Principal, filter: { selection?: NodeSelection; account?: string; backend?: Backend; lockedOnly?: boolean } = {}): AccountListing[] {
      authorize(p, 'fleet.read', 'listing accounts');
      const sel = filter.selection;
      const empty = !sel || (!sel.all && !sel.nodeIds?.length && !Object.keys(sel.labels ?? {}).length && !sel.lockedOnly);
      return service
        .listAccounts({ ...filter, selection: empty ? undefined : sel })
        .map((a) => ({ ...a, privileged: policy.isPrivileged(a.account.state.backend, a.account.state.account, a.account.state) }));
    },
    /** Replaces a node's admin labels (the ones selectors match); a reason is required and audited. */
    setNodeLabels(p: Principal, input: { nodeId: string; labels: Record<string, string>; reason: string }): NodeRecord {
      authorize(p, 'nodes.label', 'labelling nodes', { nodeId: input.nodeId });
      if (!input.reason?.trim()) throw new FleetpassError('FP_REASON_REQUIRED');
      assertText('the reason', input.reason.trim(), { max: MAX_REASON_LENGTH });
      return service.setNodeLabels(input.nodeId, input.labels ?? {}, { actor: p.name, reason: input.reason.trim() });
    },
    revokeNode(p: Principal, input: { nodeId: string; reason: string }): NodeRecord {
      authorize(p, 'nodes.revoke', 'revoking a node', { nodeId: input.nodeId });
      if (!input.reason?.trim()) throw new FleetpassError('FP_REASON_REQUIRED');
      assertText('the reason', input.reason.trim(), { max: MAX_REASON_LENGTH });
      return service.revokeNode(input.nodeId, { actor: p.name, reason: input.reason.trim() });
    },

    // --- change requests ---
    /**
     * Asks for one action on one account across nodes. Refused (and audited) when the role or the account
     * policy does not allow it; privileged accounts wait for a second person's approval and reach no agent
     * before it. Generated passwords are in the result only.
     */
    async requestOperations(p: Principal, input: RequestOperationsInput): Promise<RequestOperationsResult> {
      const facts = { account: typeof input.account === 'string' ? input.account.slice(0, 64) : '', reason: input.reason?.slice(0, 500) };
      authorize(p, 'operations.request', 'asking for unlocks and resets', facts);
      validateRequest(input);
      if (!policy.allows(p.role, input.backend, input.account, input.action)) {
        const word = input.action === Action.ACTION_UNLOCK ? 'unlock' : 'reset';
        throw refusal(p, 'requestOperations', new FleetpassError('FP_POLICY_FORBIDDEN', `the controller policy does not let the ${p.role} role ${word} ${input.account} on ${Backend[input.backend].replace('BACKEND_', '').toLowerCase()} nodes`), {
          ...facts, details: { action: Action[input.action], backend: Backend[input.backend] },
        });
      }
      const plan = planOperations(service, policy, input);
      const base = { needsApproval: plan.needsApproval, privileged: plan.privileged, nodes: plan.nodes, warnings: plan.warnings };
      if (input.dryRun) return { ...base, dryRun: true, generatedPasswords: [] };
      const created = await service.createChangeRequest({
        requestedBy: p.name, reason: input.reason.trim(), backend: input.backend, account: input.account, action: input.action,
        targets: plan.targets, needsApproval: plan.needsApproval, privileged: plan.privileged, ttlSeconds: input.ttlSeconds || undefined,
        temporary: input.temporary,
      });
      const warnings = [...plan.warnings];
      if (created.dispatchError) warnings.push(`sending to some online nodes failed (${created.dispatchError.code}); they are retried`);
      return { ...base, warnings, dryRun: false, request: service.getChangeRequest(created.request.id), generatedPasswords: plan.generatedPasswords };
    },
    listChangeRequests(p: Principal, filter: { states?: readonly ChangeRequestState[]; limit?: number } = {}): ChangeRequestView[] {
      authorize(p, 'fleet.read', 'listing change requests');
      return service.listChangeRequests(filter).map((r) => ({ request: r, operations: [], counts: service.getChangeRequest(r.id).counts }));
    },
    getChangeRequest(p: Principal, id: string): ChangeRequestView {
      authorize(p, 'fleet.read', 'reading a change request', { requestId: id });
      return service.getChangeRequest(id);
    },
    /** A second person approves; never the requester (FP_SELF_APPROVAL, audited). */
    async approveChangeRequest(p: Principal, id: string, note = ''): Promise<ChangeRequestView> {
      const cr = requestOf(id);
      assertMayDecide(p, cr.requestedBy, 'approving a change request', { requestId: id, account: cr.account });
      assertText('the note', note, NOTE_RULES);
      await service.approveChangeRequest(id, { actor: p.name, note });
      return service.getChangeRequest(id);
    },
    rejectChangeRequest(p: Principal, id: string, note = ''): ChangeRequestView {
      const cr = requestOf(id);
      assertMayDecide(p, cr.requestedBy, 'rejecting a change request', { requestId: id, account: cr.account });
      assertText('the note', note, NOTE_RULES);
      service.rejectChangeRequest(id, { actor: p.name, note });
      return service.getChangeRequest(id);
    },
    /** The requester cancels their own request; an admin any. */
    cancelChangeRequest(p: Principal, id: string, note = ''): ChangeRequestView {
      const cr = requestOf(id);
      const facts = { requestId: id, account: cr.account };
      if (cr.requestedBy === p.name) authorize(p, 'operations.request', 'cancelling a change request', facts);
      else authorize(p, 'requests.cancel-any', "cancelling someone else's change request", facts);
      assertText('the note', note, NOTE_RULES);
      service.cancelChangeRequest(id, { actor: p.name, note });
      return service.getChangeRequest(id);
    },
    /** Streams a request's progress (snapshot first); returns the unsubscribe function. */
    watchChangeRequest(p: Principal, id: string, onUpdate: (u: WatchUpdate) => void): () => void {
      authorize(p, 'fleet.read', 'watching a change request', { requestId: id });
      return service.watchChangeRequest(id, onUpdate);
    },
    getNode(p: Principal, id: string): NodeRecord | undefined {
      authorize(p, 'fleet.read', 'reading a node', { nodeId: id });
      return service.getNode(id);
    },

    // --- audit ---
    queryAudit(p: Principal, q: AuditQuery = {}): AuditPage {
      authorize(p, 'audit.read', 'searching the audit log');
      return service.queryAudit(q);
    },
    /**
     * The audit log (or the filtered part) as text chunks, records up to the head when the export began.
     * Pages through the log rather than holding one cursor open, so writers are never blocked.
     */
    exportAudit(p: Principal, input: { filter?: AuditFilter; format: ExportFormat }): Iterable<string> {
      authorize(p, 'audit.read', 'exporting the audit log');
      if (input.format !== 'csv' && input.format !== 'jsonl') throw new FleetpassError('FP_INVALID_ARGUMENT', 'the export format must be csv or jsonl');
      const filter = input.filter ?? {};
      const head = service.audited((a) => {
        a.append({ actor: p.name, action: 'audit.exported', outcome: 'ok', details: { format: input.format, filter } });
        return a.head().seq;
      });
      function* pages(): IterableIterator<AuditRecord> {
        let after = 0;
        for (;;) {
          const page = service.queryAudit({ filter, afterSeq: after, limit: 1000 });
          for (const r of page.records) {
            if (r.seq > head) return;
            yield r;
          }
          if (!page.nextCursor) return;
          after = page.nextCursor;
        }
      }
      return formatExport(pages(), input.format);
    },
    verifyAudit(p: Principal): VerifyResult {
      authorize(p, 'audit.read', 'verifying the audit log');
      return service.verifyAudit();
    },

    // --- operators and tokens ---
    createOperator(p: Principal, input: { name: string; role: OperatorRole }): OperatorRecord {
      authorize(p, 'operators.manage', 'adding operators', { details: { operator: input.name } });
      if (!isRole(input.role)) throw new FleetpassError('FP_INVALID_ARGUMENT', 'the role must be viewer, operator, approver or admin');
      return createOperator(operatorDeps, { name: input.name, role: input.role, by: p.name });
    },
    listOperators(p: Principal): OperatorRecord[] {
      authorize(p, 'operators.manage', 'listing operators');
      return repo.list();
    },
    disableOperator(p: Principal, name: string): OperatorRecord {
      authorize(p, 'operators.manage', 'disabling operators', { details: { operator: name } });
      return disableOperator(operatorDeps, { name, by: p.name });
    },
    /**
     * A new API token, shown once; `ttlSeconds` 0 means the default (90 days). Anyone may make tokens for
     * themselves; an admin may hand another operator only their first one (none active yet), out of band,
     * so an admin can never sign in as an operator who already works with fleetpass. The new token records
     * who could hold it: its owner, its maker, and whoever could hold the credential it was made with.
     */
    createApiToken(p: Principal, input: { operator: string; ttlSeconds?: number }): { id: string; token: string; expires: Date | null } {
      const self = input.operator === p?.name;
      if (self) authorize(p, 'tokens.own', 'creating API tokens for yourself');
      else authorize(p, 'tokens.manage', 'creating API tokens for other operators', { details: { operator: input.operator } });
      const ttl = input.ttlSeconds || DEFAULT_TOKEN_TTL_SECONDS;
      if (!Number.isInteger(ttl) || ttl < 60 || ttl > MAX_TOKEN_TTL_SECONDS) throw new FleetpassError('FP_INVALID_ARGUMENT', `a token lives 60 seconds to ${MAX_TOKEN_TTL_SECONDS / 86_400} days`);
      const op = repo.get(input.operator);
      if (!op) throw new FleetpassError('FP_NOT_FOUND', `no operator named ${JSON.stringify(String(input.operator).slice(0, 64))}`);
      if (op.disabled) throw new FleetpassError('FP_INVALID_ARGUMENT', `the operator "${op.name}" is disabled`);
      const now = clock.now();
      if (!self) {
        const active = repo.tokensOf(op.name).filter((t) => !t.revoked && (!t.expires || new Date(t.expires).getTime() > now.getTime()));
        if (active.length > 0) {
          throw refusal(p, 'creating an API token for another operator', new FleetpassError('FP_TOKEN_HANDED_OVER', `${op.name} already has ${active.length} active API token(s); only ${op.name} can make more (\`fleetpass tokens create --operator ${op.name}\`)`), {
            details: { operator: op.name, activeTokens: active.map((t) => t.id) },
          });
        }
      }
      return service.audited((audit) => {
        const issued = issueApiToken(repo, op.name, { createdBy: p.name, ttlSeconds: ttl, now, knownTo: holdersOf(p) });
        audit.append({ actor: p.name, action: 'token.created', outcome: 'ok', details: { operator: op.name, tokenId: issued.id, expires: issued.expires?.toISOString() ?? '', handedOver: !self } });
        return issued;
      });
    },

    // --- supplied by later features (role checked here) ---
    async createEnrollmentToken(p: Principal, input: CreateEnrollmentTokenRequest) {
      authorize(p, 'enrollment.manage', 'creating enrollment tokens');
      if (!ext.enrollment) throw unsupported('enrollment');
      return ext.enrollment.createToken(p, input);
    },
    async listEnrollmentTokens(p: Principal) {
      authorize(p, 'enrollment.manage', 'listing enrollment tokens');
      if (!ext.enrollment) throw unsupported('enrollment');
      return ext.enrollment.listTokens(p);
    },
    async revokeEnrollmentToken(p: Principal, id: string) {
      authorize(p, 'enrollment.manage', 'revoking enrollment tokens');
      if (!ext.enrollment) throw unsupported('enrollment');
      return ext.enrollment.revokeToken(p, id);
    },
    async revealPassword(p: Principal, input: RevealPasswordRequest) {
      authorize(p, 'escrow.reveal', 'revealing passwords', { nodeId: input.nodeId, account: input.account, reason: input.reason });
      if (!ext.escrow) throw unsupported('password escrow');
      return ext.escrow.reveal(p, input);
    },
    async rotatePasswords(p: Principal, input: RotatePasswordsRequest) {
      authorize(p, 'escrow.rotate', 'rotating passwords', { account: input.account, reason: input.reason });
      if (!ext.escrow) throw unsupported('password escrow');
      return ext.escrow.rotate(p, input);
    },
    async escrowStatus(p: Principal, input: EscrowStatusRequest) {
      authorize(p, 'escrow.read', 'reading escrow status');
      if (!ext.escrow) throw unsupported('password escrow');
      return ext.escrow.status(p, input);
    },
    async listReveals(p: Principal, input: ListRevealsRequest) {
      authorize(p, 'escrow.read', 'listing password reveals');
      if (!ext.escrow) throw unsupported('password escrow');
      return ext.escrow.listReveals(p, input);
    },
    /** A second person approves or rejects a reveal that needs approval; never the requester (FP_SELF_APPROVAL, audited). */
    async decideReveal(p: Principal, input: DecideRevealRequest) {
      const what = input.approve ? 'approving a password reveal' : 'rejecting a password reveal';
      authorize(p, 'requests.decide', what, { details: { revealId: String(input.revealId).slice(0, 64) } });
      if (!ext.escrow) throw unsupported('password escrow');
      const reveal = await ext.escrow.getReveal(p, input.revealId);
      assertMayDecide(p, reveal.requestedBy, what, { nodeId: reveal.nodeId, account: reveal.account, details: { revealId: reveal.id } });
      return ext.escrow.decideReveal(p, input);
    },

    /** For extensions: the second-person rule (approver role, not the requester), refusals audited. */
    assertMayDecide,
    /** For extensions: the role check with the refusal audited. */
    authorize,
  };
}
