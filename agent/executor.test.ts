import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fakeClock } from '../shared/clock';
import { FleetpassError } from '../shared/errors';
import { silentLogger } from '../shared/logger';
import { Action, Backend, OperationOutcome } from '../shared/gen/fleetpass/v1/common';
import type { Operation } from '../shared/gen/fleetpass/v1/agent';
import { createTestMemoryBackend, type TestMemoryBackend } from '../test/helpers/test-memory-backend';
import { createExecutor } from './executor';
import { openJournal, type Journal } from './journal';
import { createPolicy } from './policy';

const clock = fakeClock('2026-03-01T10:00:00Z');
const policy = createPolicy({
  allowRoot: false,
  accounts: [
    { backend: 'linux', account: 'ilmnuser', actions: ['unlock', 'reset_password', 'refresh_state'] },
    { backend: 'linux', account: 'ghost', actions: ['unlock', 'refresh_state'] },
  ],
});

function op(o: Partial<Operation> = {}): Operation {
  return {
    id: randomUUID(),
    backend: Backend.BACKEND_LINUX,
    account: 'ilmnuser',
    action: Action.ACTION_UNLOCK,
    newSecret: '',
    expires: new Date(clock.now().getTime() + 60_000),
    requestedBy: 'a',
    approvedBy: 'b',
    reason: 'r',
    created: clock.now(),
    requireIdle: false,
    temporary: false,
    ...o,
  };
}

function setup(opts: { journal?: Journal; backend?: TestMemoryBackend; dir?: string } = {}) {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'fp-exec-'));
  const backend = opts.backend ?? createTestMemoryBackend({ clock, accounts: { ilmnuser: {} } });
  const journal = opts.journal ?? openJournal({ dir, clock, log: silentLogger(), retentionDays: 30 });
  const executor = createExecutor({
    backends: new Map([[Backend.BACKEND_LINUX, backend]]),
    policy,
    journal,
    busy: async () => false,
    clock,
    log: silentLogger(),
  });
  return { executor, backend, journal, dir };
}

describe('operation executor', () => {
  it('refuses bad account names before any command runs', async () => {
    const { executor, backend } = setup();
    for (const account of ['../x', 'root;id', '-rf', '', 'a'.repeat(300), 'a b', '$(id)']) {
      const r = await executor.execute(op({ account }));
      expect([account, r.outcome, r.errorCode]).toEqual([
        account,
        OperationOutcome.OPERATION_OUTCOME_REFUSED,
        'FP_ACCOUNT_NAME_INVALID',
      ]);
    }
    expect(backend.calls).toEqual({ inspect: 0, unlock: 0, resetPassword: 0 });
  });

  it('refuses expired, expiry-less, secret-less, unknown-backend and unknown-account operations, changing nothing', async () => {
    const { executor, backend } = setup();
    backend.failLogins('ilmnuser', 3);
    const cases: [Partial<Operation>, OperationOutcome, string][] = [
      [
        { expires: new Date(clock.now().getTime() - 1) },
        OperationOutcome.OPERATION_OUTCOME_EXPIRED,
        'FP_OPERATION_EXPIRED',
      ],
      [{ expires: clock.now() }, OperationOutcome.OPERATION_OUTCOME_EXPIRED, 'FP_OPERATION_EXPIRED'],
      [{ expires: undefined }, OperationOutcome.OPERATION_OUTCOME_REFUSED, 'FP_INVALID_ARGUMENT'],
      [{ action: Action.ACTION_RESET_PASSWORD }, OperationOutcome.OPERATION_OUTCOME_REFUSED, 'FP_SECRET_MISSING'],
      [{ backend: Backend.BACKEND_LRM }, OperationOutcome.OPERATION_OUTCOME_REFUSED, 'FP_BACKEND_UNAVAILABLE'],
      [{ action: Action.ACTION_UNSPECIFIED }, OperationOutcome.OPERATION_OUTCOME_REFUSED, 'FP_INVALID_ARGUMENT'],
      [{ account: 'ghost' }, OperationOutcome.OPERATION_OUTCOME_REFUSED, 'FP_ACCOUNT_NOT_FOUND'],
      [{ id: '' }, OperationOutcome.OPERATION_OUTCOME_REFUSED, 'FP_INVALID_ARGUMENT'],
    ];
    for (const [o, outcome, code] of cases) {
      const r = await executor.execute(op(o));
      expect([o, r.outcome, r.errorCode]).toEqual([o, outcome, code]);
    }
    expect(backend.calls.unlock + backend.calls.resetPassword).toBe(0);
    expect(backend.account('ilmnuser').failures).toBe(3);
  });

  it('refuses an action the backend cannot do', async () => {
    const backend = createTestMemoryBackend({
      clock,
      accounts: { ilmnuser: {} },
      actions: [Action.ACTION_REFRESH_STATE],
    });
    const { executor } = setup({ backend });
    const r = await executor.execute(op());
    expect(r.errorCode).toBe('FP_ACTION_UNSUPPORTED');
  });

  it('resets with the temporary flag, returns before/after and the backend notes', async () => {
    const { executor, backend } = setup();
    backend.setAccount('ilmnuser', { passwordLocked: true });
    const r = await executor.execute(
      op({ action: Action.ACTION_RESET_PASSWORD, newSecret: 'Temp-Pa55-1', temporary: true }),
    );
    expect(r).toMatchObject({
      outcome: OperationOutcome.OPERATION_OUTCOME_SUCCEEDED,
      notes: ['the user must choose a new password at next login'],
    });
    expect(r.before).toMatchObject({ locked: true, lockPermanent: true });
    expect(r.after).toMatchObject({ locked: false, mustChangePassword: true });
    expect(backend.resets.map((x) => x.temporary)).toEqual([true]);
  });

  it('reports a backend failure with its code and step, re-inspects for after, and never echoes the secret', async () => {
    const { executor, backend } = setup();
    const secret = 'Leaky-Pa55-word';
    backend.failNext(
      'resetPassword',
      new FleetpassError('FP_COMMAND_FAILED', `chpasswd said: bad ${secret}`, { details: { step: 'linux-password' } }),
    );
    const r = await executor.execute(op({ action: Action.ACTION_RESET_PASSWORD, newSecret: secret }));
    expect(r).toMatchObject({
      outcome: OperationOutcome.OPERATION_OUTCOME_FAILED,
      errorCode: 'FP_COMMAND_FAILED',
      failedStep: 'linux-password',
    });
    expect(r.message).not.toContain(secret);
    expect(r.after).toMatchObject({ account: 'ilmnuser', exists: true });
    expect(backend.calls.inspect).toBe(2);
  });

  it('applies one id once, even when two deliveries arrive together', async () => {
    const { executor, backend } = setup();
    const o = op();
    const [a, b] = await Promise.all([executor.execute(o), executor.execute(o)]);
    expect(backend.calls.unlock).toBe(1);
    expect([a.replayed, b.replayed]).toEqual([false, true]);
  });

  it('refuses when the journal cannot record the start, without applying', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-exec-'));
    const real = openJournal({ dir, clock, log: silentLogger(), retentionDays: 30 });
    const broken: Journal = {
      ...real,
      recordStarted: () => {
        throw new FleetpassError('FP_JOURNAL_FAILED', 'disk full');
      },
    };
    const { executor, backend } = setup({ journal: broken });
    const r = await executor.execute(op());
    expect(r).toMatchObject({ outcome: OperationOutcome.OPERATION_OUTCOME_REFUSED, errorCode: 'FP_JOURNAL_FAILED' });
    expect(backend.calls.unlock).toBe(0);
  });

  it('reports an operation cut off by a crash as interrupted, without applying it again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-exec-'));
    const before = openJournal({ dir, clock, log: silentLogger(), retentionDays: 30 });
    const o = op({ action: Action.ACTION_RESET_PASSWORD, newSecret: 'Crash-Pa55' });
    before.recordStarted({ id: o.id, backend: o.backend, account: o.account, action: o.action });
    const { executor, backend } = setup({ dir });
    const [r] = await executor.recoverInterrupted();
    expect(r).toMatchObject({
      operationId: o.id,
      outcome: OperationOutcome.OPERATION_OUTCOME_FAILED,
      errorCode: 'FP_OPERATION_INTERRUPTED',
    });
    expect(r.after).toMatchObject({ account: 'ilmnuser' });
    const again = await executor.execute(o);
    expect(again).toMatchObject({ replayed: true, errorCode: 'FP_OPERATION_INTERRUPTED' });
    expect(backend.calls.resetPassword).toBe(0);
  });

  it('reports a retry after a busy refusal that a crash cut off as interrupted, and does not apply it again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-exec-'));
    let busy = true;
    const backend = createTestMemoryBackend({ clock, accounts: { ilmnuser: {} } });
    const journal = openJournal({ dir, clock, log: silentLogger(), retentionDays: 30 });
    const executor = createExecutor({
      backends: new Map([[Backend.BACKEND_LINUX, backend]]),
      policy,
      journal,
      busy: async () => busy,
      clock,
      log: silentLogger(),
    });
    const o = op({ action: Action.ACTION_RESET_PASSWORD, newSecret: 'Retry-Pa55', requireIdle: true });
    expect(await executor.execute(o)).toMatchObject({
      outcome: OperationOutcome.OPERATION_OUTCOME_REFUSED,
      errorCode: 'FP_NODE_BUSY',
    });
    journal.markSent(o.id);
    // Idle now: the redelivery is applied, and the agent dies while the backend works on it.
    busy = false;
    const gate = backend.hold('resetPassword');
    const cutOff = executor.execute(o);
    await gate.reached;

    const afterCrash = createTestMemoryBackend({ clock, accounts: { ilmnuser: {} } });
    const restarted = setup({ dir, backend: afterCrash });
    const [r] = await restarted.executor.recoverInterrupted();
    expect(r).toMatchObject({
      operationId: o.id,
      outcome: OperationOutcome.OPERATION_OUTCOME_FAILED,
      errorCode: 'FP_OPERATION_INTERRUPTED',
    });
    expect(restarted.journal.unsent().map((x) => x.errorCode)).toEqual(['FP_OPERATION_INTERRUPTED']);
    expect(await restarted.executor.execute(o)).toMatchObject({
      replayed: true,
      errorCode: 'FP_OPERATION_INTERRUPTED',
    });
    expect(afterCrash.calls.resetPassword).toBe(0);

    gate.release();
    await cutOff;
  });
});
