/**
 * Change requests: ask for an unlock or a reset across nodes (role, account policy, plan, second person
 * for privileged accounts), read and watch them, approve or reject (the second-person rule), cancel.
 * Every refusal is audited; generated passwords are in the result only, never stored in plaintext.
 */
import { FleetpassError } from '../../shared/errors';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import type { Principal } from '../access/authenticate';
import { isFinal, type ControllerEvent } from '../dispatch';
import {
  changeRequestView,
  type ChangeRequestRecord,
  type ChangeRequestState,
  type ChangeRequestView,
  type NodeRecord,
  type OperationRecord,
  type OperationState,
} from '../store';
import type { ServiceContext } from './context';
import { planOperations, validateRequest, type RequestOperationsInput } from './request-plan';
import { assertText, NOTE_RULES } from './rules';

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

export interface WatchUpdate {
  request: ChangeRequestRecord;
  counts: Partial<Record<OperationState, number>>;
  /** The operation that changed; undefined on the first update. */
  operation?: OperationRecord;
  /** True on the last update: every operation is final (or the request was closed with none open). */
  done: boolean;
}

const CLOSED: ReadonlySet<ChangeRequestState> = new Set(['done', 'rejected', 'cancelled']);

export function requestsService(ctx: ServiceContext) {
  const { store, rules, policy, dispatcher } = ctx;
  const view = (id: string) => changeRequestView(store, id);

  return {
    /**
     * Asks for one action on one account across nodes. Refused (and audited) when the role or the account
     * policy does not allow it; privileged accounts wait for a second person's approval and reach no agent
     * before it. Generated passwords are in the result only.
     */
    async requestOperations(p: Principal, input: RequestOperationsInput): Promise<RequestOperationsResult> {
      const facts = {
        account: typeof input.account === 'string' ? input.account.slice(0, 64) : '',
        reason: input.reason?.slice(0, 500),
      };
      rules.authorize(p, 'operations.request', 'asking for unlocks and resets', facts);
      validateRequest(input);
      if (!policy.allows(p.role, input.backend, input.account, input.action)) {
        const word = input.action === Action.ACTION_UNLOCK ? 'unlock' : 'reset';
        throw rules.refusal(
          p,
          'requestOperations',
          new FleetpassError(
            'FP_POLICY_FORBIDDEN',
            `the controller policy does not let the ${p.role} role ${word} ${input.account} on ${Backend[input.backend].replace('BACKEND_', '').toLowerCase()} nodes`,
          ),
          {
            ...facts,
            details: { action: Action[input.action], backend: Backend[input.backend] },
          },
        );
      }
      const plan = planOperations(store, policy, input);
      const base = {
        needsApproval: plan.needsApproval,
        privileged: plan.privileged,
        nodes: plan.nodes,
        warnings: plan.warnings,
      };
      if (input.dryRun) return { ...base, dryRun: true, generatedPasswords: [] };
      const created = await dispatcher.createChangeRequest({
        requestedBy: p.name,
        reason: input.reason.trim(),
        backend: input.backend,
        account: input.account,
        action: input.action,
        targets: plan.targets,
        needsApproval: plan.needsApproval,
        privileged: plan.privileged,
        ttlSeconds: input.ttlSeconds || undefined,
        temporary: input.temporary,
      });
      const warnings = [...plan.warnings];
      if (created.dispatchError)
        warnings.push(`sending to some online nodes failed (${created.dispatchError.code}); they are retried`);
      return {
        ...base,
        warnings,
        dryRun: false,
        request: view(created.request.id),
        generatedPasswords: plan.generatedPasswords,
      };
    },
    listChangeRequests(
      p: Principal,
      filter: { states?: readonly ChangeRequestState[]; limit?: number } = {},
    ): ChangeRequestView[] {
      rules.authorize(p, 'fleet.read', 'listing change requests');
      return store.operations
        .listRequests(filter)
        .map((r) => ({ request: r, operations: [], counts: store.operations.countsOf(r.id) }));
    },
    getChangeRequest(p: Principal, id: string): ChangeRequestView {
      rules.authorize(p, 'fleet.read', 'reading a change request', { requestId: id });
      return view(id);
    },
    /** A second person approves; never the requester (FP_SELF_APPROVAL, audited). */
    async approveChangeRequest(p: Principal, id: string, note = ''): Promise<ChangeRequestView> {
      const cr = view(id).request;
      rules.assertMayDecide(p, cr.requestedBy, 'approving a change request', { requestId: id, account: cr.account });
      assertText('the note', note, NOTE_RULES);
      await dispatcher.approveChangeRequest(id, { actor: p.name, note });
      return view(id);
    },
    rejectChangeRequest(p: Principal, id: string, note = ''): ChangeRequestView {
      const cr = view(id).request;
      rules.assertMayDecide(p, cr.requestedBy, 'rejecting a change request', { requestId: id, account: cr.account });
      assertText('the note', note, NOTE_RULES);
      dispatcher.rejectChangeRequest(id, { actor: p.name, note });
      return view(id);
    },
    /** The requester cancels their own request; an admin any. */
    cancelChangeRequest(p: Principal, id: string, note = ''): ChangeRequestView {
      const cr = view(id).request;
      const facts = { requestId: id, account: cr.account };
      if (cr.requestedBy === p.name) rules.authorize(p, 'operations.request', 'cancelling a change request', facts);
      else rules.authorize(p, 'requests.cancel-any', "cancelling someone else's change request", facts);
      assertText('the note', note, NOTE_RULES);
      dispatcher.cancelChangeRequest(id, { actor: p.name, note });
      return view(id);
    },
    /**
     * Streams a change request: a snapshot first, then one update per operation change, and `done`
     * once nothing is left open. Returns the unsubscribe function (call it when the client goes away).
     */
    watchChangeRequest(p: Principal, id: string, onUpdate: (u: WatchUpdate) => void): () => void {
      rules.authorize(p, 'fleet.read', 'watching a change request', { requestId: id });
      const first = view(id);
      const firstDone = first.operations.every((o) => isFinal(o.state));
      onUpdate({ request: first.request, counts: first.counts, done: firstDone });
      if (firstDone) return () => undefined;
      let finished = false;
      let unsubscribe: () => void = () => undefined;
      const listener = (e: ControllerEvent) => {
        if (finished) return;
        const mine =
          (e.type === 'operation' && e.operation.requestId === id) ||
          (e.type === 'request' && e.request.id === id && CLOSED.has(e.request.state));
        if (!mine) return;
        const done = store.operations.unfinishedCount(id) === 0;
        if (e.type === 'request' && !done) return;
        finished = done;
        onUpdate({
          request: store.operations.getRequest(id)!,
          counts: store.operations.countsOf(id),
          operation: e.type === 'operation' ? e.operation : undefined,
          done,
        });
        if (done) unsubscribe();
      };
      unsubscribe = dispatcher.events.subscribe(listener);
      return () => unsubscribe();
    },
  };
}
