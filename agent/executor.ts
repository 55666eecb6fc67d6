/**
 * Applies one Operation and returns its OperationResult. Order of checks, each failing closed:
 * id → journal (an id seen before is answered from the journal, `replayed`) → expiry → name, backend,
 * action, local policy, secret present → `require_idle` vs busy → inspect (account exists; uid 0 only with
 * allowRoot) → journal `started` (fsynced) → backend → journal result (fsynced) → return.
 * Refusals change nothing. A backend failure re-inspects for `after` and names the failed step.
 * The secret is passed to the backend only; it is never logged, journaled or put in a message.
 */
import type { Logger } from '../shared/logger';
import type { Clock } from '../shared/clock';
import { ERROR_CODES, FleetpassError, asFleetpassError, type ErrorCode } from '../shared/errors';
import { assertAccountName } from '../shared/validation/account-name';
import {
  Action,
  OperationOutcome,
  type AccountState,
  type Backend,
  type OperationResult,
} from '../shared/gen/fleetpass/v1/common';
import type { Operation } from '../shared/gen/fleetpass/v1/agent';
import type { AccountBackend, ChangeResult } from './backends/backend';
import type { BusyProbe } from './busy';
import type { Journal } from './journal';
import { actionName, backendName, type Policy } from './policy';

export interface ExecutorDeps {
  readonly backends: ReadonlyMap<Backend, AccountBackend>;
  readonly policy: Policy;
  readonly journal: Journal;
  readonly busy: BusyProbe;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface Executor {
  /** Applies (or refuses, or replays) one operation, one at a time in arrival order; never throws. */
  execute(op: Operation): Promise<OperationResult>;
  /** Turns operations cut off by a crash into FAILED results (FP_OPERATION_INTERRUPTED); never re-applies them. */
  recoverInterrupted(): Promise<OperationResult[]>;
}

/** Outcome for an error raised before the backend changed anything. */
function preflightOutcome(code: ErrorCode): OperationOutcome {
  return code === 'FP_OPERATION_EXPIRED'
    ? OperationOutcome.OPERATION_OUTCOME_EXPIRED
    : OperationOutcome.OPERATION_OUTCOME_REFUSED;
}

/** A recorded answer is replayed unless it was a refusal worth retrying (busy, shutting down): nothing was applied then. */
function replayable(r: OperationResult): boolean {
  if (r.outcome !== OperationOutcome.OPERATION_OUTCOME_REFUSED) return true;
  const spec = ERROR_CODES[r.errorCode as ErrorCode];
  return !spec?.retryable;
}

/** Keeps a secret out of a message even if some layer below echoed it. */
function scrub(message: string, secret: string, code: ErrorCode): string {
  return secret && message.includes(secret) ? ERROR_CODES[code].message : message;
}

/** Creates the executor over the enabled backends, the policy and the journal. */
export function createExecutor(deps: ExecutorDeps): Executor {
  const baseLog = deps.log.child({ component: 'executor' });

  async function inspectQuietly(
    backend: AccountBackend,
    account: string,
    log: Logger,
  ): Promise<AccountState | undefined> {
    try {
      return await backend.inspect(account);
    } catch (e) {
      log.warn({ err: asFleetpassError(e) }, 'inspect after failure failed');
      return undefined;
    }
  }

  function record(result: OperationResult, log: Logger): OperationResult {
    try {
      deps.journal.recordResult(result);
    } catch (e) {
      // The journal keeps the result in memory, so this process still never re-applies it.
      log.error({ err: asFleetpassError(e) }, 'could not journal the result');
    }
    return result;
  }

  async function execute(op: Operation): Promise<OperationResult> {
    const started = deps.clock.now();
    const log = baseLog.child({
      operationId: op.id,
      backend: backendName(op.backend),
      account: op.account,
      action: actionName(op.action),
    });
    const result = (outcome: OperationOutcome, fields: Partial<OperationResult> = {}): OperationResult => ({
      operationId: op.id,
      outcome,
      errorCode: '',
      message: '',
      before: undefined,
      after: undefined,
      started,
      finished: deps.clock.now(),
      replayed: false,
      failedStep: '',
      notes: [],
      ...fields,
    });
    const refuse = (e: unknown, before?: AccountState): OperationResult => {
      const fe = asFleetpassError(e);
      log.warn({ code: fe.code, reason: scrub(fe.message, op.newSecret, fe.code) }, 'operation refused');
      return result(preflightOutcome(fe.code), {
        errorCode: fe.code,
        message: scrub(fe.message, op.newSecret, fe.code),
        before,
        after: before,
      });
    };

    if (!op.id) return refuse(new FleetpassError('FP_INVALID_ARGUMENT', 'the operation has no id'));
    const recorded = deps.journal.lookup(op.id);
    if (recorded && replayable(recorded)) {
      log.info({ outcome: recorded.outcome }, 'operation already applied; replaying the recorded result');
      return { ...recorded, replayed: true };
    }
    // A retryable refusal (busy) changed nothing: this delivery is a new attempt, and the journal's `started`
    // line clears that refusal so a crash during it reads as interrupted, not as "refused, try again".
    log.info({ requireIdle: op.requireIdle, expires: op.expires, retryOf: recorded?.errorCode }, 'operation received');

    // Preflight: nothing has changed yet, so every failure here is a refusal.
    let backend: AccountBackend;
    let before: AccountState | undefined;
    try {
      if (!op.expires) throw new FleetpassError('FP_INVALID_ARGUMENT', 'the operation carries no expiry; refusing it');
      if (op.expires.getTime() <= started.getTime()) {
        throw new FleetpassError(
          'FP_OPERATION_EXPIRED',
          `the operation expired at ${op.expires.toISOString()}; nothing was changed`,
        );
      }
      assertAccountName(op.account);
      const b = deps.backends.get(op.backend);
      if (!b)
        throw new FleetpassError(
          'FP_BACKEND_UNAVAILABLE',
          `the ${backendName(op.backend)} backend is not enabled on this node`,
        );
      backend = b;
      if (![Action.ACTION_UNLOCK, Action.ACTION_RESET_PASSWORD, Action.ACTION_REFRESH_STATE].includes(op.action)) {
        throw new FleetpassError('FP_INVALID_ARGUMENT', 'the operation has no known action');
      }
      deps.policy.check(op.backend, op.account, op.action);
      if (!backend.describe().actions.includes(op.action)) {
        throw new FleetpassError(
          'FP_ACTION_UNSUPPORTED',
          `the ${backendName(op.backend)} backend cannot ${actionName(op.action)}`,
        );
      }
      if (op.action === Action.ACTION_RESET_PASSWORD && !op.newSecret) throw new FleetpassError('FP_SECRET_MISSING');
      if (op.requireIdle && (await deps.busy())) throw new FleetpassError('FP_NODE_BUSY');
    } catch (e) {
      return record(refuse(e), log);
    }

    try {
      before = await backend.inspect(op.account);
    } catch (e) {
      const fe = asFleetpassError(e, 'FP_COMMAND_FAILED');
      log.error({ err: fe }, 'inspect before the operation failed');
      return record(
        result(OperationOutcome.OPERATION_OUTCOME_FAILED, {
          errorCode: fe.code,
          message: scrub(fe.message, op.newSecret, fe.code),
          failedStep: 'inspect',
        }),
        log,
      );
    }
    try {
      if (!before.exists && op.action !== Action.ACTION_REFRESH_STATE) {
        throw new FleetpassError(
          'FP_ACCOUNT_NOT_FOUND',
          `the account ${JSON.stringify(op.account)} does not exist on this node`,
        );
      }
      deps.policy.check(op.backend, op.account, op.action, before);
      deps.journal.recordStarted({ id: op.id, backend: op.backend, account: op.account, action: op.action });
    } catch (e) {
      return record(refuse(e, before), log);
    }

    try {
      let change: ChangeResult;
      if (op.action === Action.ACTION_REFRESH_STATE) change = { before, after: before, notes: [] };
      else if (op.action === Action.ACTION_UNLOCK) change = await backend.unlock(op.account);
      else change = await backend.resetPassword(op.account, op.newSecret, { temporary: op.temporary });
      log.info({ lockedAfter: change.after.locked }, 'operation succeeded');
      return record(
        result(OperationOutcome.OPERATION_OUTCOME_SUCCEEDED, {
          before: change.before,
          after: change.after,
          notes: [...change.notes],
        }),
        log,
      );
    } catch (e) {
      const fe = asFleetpassError(e, 'FP_COMMAND_FAILED');
      const step = typeof fe.details.step === 'string' ? fe.details.step : '';
      const message = scrub(fe.message, op.newSecret, fe.code);
      log.error({ code: fe.code, failedStep: step, reason: message }, 'operation failed');
      const after = await inspectQuietly(backend, op.account, log);
      return record(
        result(OperationOutcome.OPERATION_OUTCOME_FAILED, {
          errorCode: fe.code,
          message,
          failedStep: step,
          before,
          after,
        }),
        log,
      );
    }
  }

  async function recoverInterrupted(): Promise<OperationResult[]> {
    const out: OperationResult[] = [];
    for (const s of deps.journal.interrupted()) {
      const log = baseLog.child({
        operationId: s.id,
        backend: backendName(s.backend),
        account: s.account,
        action: actionName(s.action),
      });
      const backend = deps.backends.get(s.backend);
      const after = backend ? await inspectQuietly(backend, s.account, log) : undefined;
      log.error({ startedAt: s.at }, 'operation was interrupted by a stop; reporting it failed, not applying it again');
      out.push(
        record(
          {
            operationId: s.id,
            outcome: OperationOutcome.OPERATION_OUTCOME_FAILED,
            errorCode: 'FP_OPERATION_INTERRUPTED',
            message: ERROR_CODES.FP_OPERATION_INTERRUPTED.message,
            before: undefined,
            after,
            started: s.at,
            finished: deps.clock.now(),
            replayed: false,
            failedStep: '',
            notes: [],
          },
          log,
        ),
      );
    }
    return out;
  }

  // One operation at a time: a second delivery of an id waits and is then answered from the journal.
  let chain: Promise<unknown> = Promise.resolve();
  function serial(op: Operation): Promise<OperationResult> {
    const run = chain.then(() => execute(op));
    chain = run.catch(() => undefined);
    return run;
  }

  return { execute: serial, recoverInterrupted };
}
