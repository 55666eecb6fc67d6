/**
 * The escrow life of a password against a real controller and scripted mTLS nodes: staged when the
 * request commits (even while it waits for approval), current once the node reports success, discarded
 * when the operation fails or is rejected (the old password stays current), history pruned, and a sealed
 * row moved to another account does not open. The admin API's escrow calls are checked for every role.
 */
import { Backend, OperationOutcome, type OperationResult } from '../../shared/gen/fleetpass/v1/common';
import type { Operation } from '../../shared/gen/fleetpass/v1/agent';
import { Action } from '../../shared/gen/fleetpass/v1/common';
import { fromGrpcError, type FleetpassError } from '../../shared/errors';
import { captureLogs, removeRoot, type LogCapture } from '../helpers/controller-harness';
import { connectScriptedAgent, succeed, type ScriptedAgent } from '../controller/support/scripted-agent';
import { adminClient, bearer, tokenOf, waitUntil } from '../operator/support/operator-harness';
import type { AdminServiceClient } from '../../shared/gen/fleetpass/v1/admin';
import { containsSecret, databaseBytes, startEscrowEnv, type EscrowEnv } from './support/escrow-env';
import { changeRequestView, listNodeViews } from '../../controller/store';
import { storeReads } from '../helpers/store-reads';

let env: EscrowEnv;
let logs: LogCapture;
const agents: ScriptedAgent[] = [];
let client: AdminServiceClient;
let mode: 'succeed' | 'fail' = 'succeed';
const delivered: string[] = [];

function answer(op: Operation): OperationResult {
  delivered.push(op.newSecret);
  if (mode === 'succeed') return succeed(op);
  return {
    ...succeed(op),
    outcome: OperationOutcome.OPERATION_OUTCOME_FAILED,
    errorCode: 'FP_COMMAND_FAILED',
    message: 'chpasswd failed',
    failedStep: 'set-password',
  };
}

async function reset(nodeId: string, account: string, password: string, who = 'olga') {
  const admin = env.service;
  const r = await admin.requestOperations(env.principal(who), {
    selection: { nodeIds: [nodeId] },
    backend: Backend.BACKEND_LINUX,
    account,
    action: Action.ACTION_RESET_PASSWORD,
    password: { source: 'provided', password },
    reason: 'CHG-1',
  });
  return r.request!.request.id;
}

async function finished(requestId: string) {
  const service = storeReads(env.tc.ctx);
  await waitUntil(
    () =>
      service
        .getChangeRequest(requestId)
        .operations.every((o) => ['succeeded', 'failed', 'refused', 'cancelled', 'expired'].includes(o.state)),
    10_000,
    'the operation to finish',
  );
  return service.getChangeRequest(requestId).operations[0];
}

const statusOf = (nodeId: string, account: string) =>
  env.escrow
    .engine()
    .status()
    .find((e) => e.nodeId === nodeId && e.account === account);
const olga = () => env.principal('olga');
const reveal = (nodeId: string, account: string) =>
  env.escrow.engine().reveal(olga(), { nodeId, backend: Backend.BACKEND_LINUX, account, reason: 'INC-7' });

beforeAll(async () => {
  logs = captureLogs('debug');
  env = await startEscrowEnv({
    log: logs.logger,
    config: {
      escrow: {
        history: 2,
        classes: [{ name: 'privileged', accounts: [{ account: 'ilmnadmin' }], revealNeedsApproval: true }],
      },
    },
  });
  env.addOperator('olga', 'operator');
  env.addOperator('abe', 'approver');
  env.addOperator('vic', 'viewer');
  for (const id of ['n1', 'n2'])
    agents.push(connectScriptedAgent({ address: env.tc.address, creds: await env.tc.nodeCredentials(id), answer }));
  await waitUntil(
    () => listNodeViews(env.tc.ctx.store).filter((n) => n.online).length === 2,
    10_000,
    'two scripted nodes',
  );
  client = adminClient(env);
});

afterAll(async () => {
  client?.close();
  for (const a of agents) a.close();
  await env?.stop();
  if (env) removeRoot(env.tc.root);
});

describe('escrow follows the operation', () => {
  it('keeps the password of a successful reset as the current version', async () => {
    const op = await finished(await reset('n1', 'ilmnuser', 'Escrow-first-pw-1'));
    expect(op.state).toBe('succeeded');
    expect(statusOf('n1', 'ilmnuser')).toMatchObject({
      setBy: 'olga',
      versions: 1,
      inFlight: false,
      lastRevealed: null,
    });
    const r = reveal('n1', 'ilmnuser');
    expect(r).toMatchObject({ state: 'revealed', password: 'Escrow-first-pw-1' });
    const stored = env.tc.ctx.audit.query({ filter: { action: 'escrow.stored' } }).records;
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      actor: 'escrow',
      nodeId: 'n1',
      account: 'ilmnuser',
      operationId: op.id,
      outcome: 'current',
    });
  });

  it('discards the staged copy of a failed reset; the old password stays current', async () => {
    mode = 'fail';
    try {
      const op = await finished(await reset('n1', 'ilmnuser', 'Escrow-failed-pw-2'));
      expect(op.state).toBe('failed');
    } finally {
      mode = 'succeed';
    }
    expect(delivered).toContain('Escrow-failed-pw-2');
    expect(statusOf('n1', 'ilmnuser')).toMatchObject({ versions: 1, inFlight: false });
    expect(reveal('n1', 'ilmnuser')).toMatchObject({ password: 'Escrow-first-pw-1' });
    const discarded = env.tc.ctx.audit.query({ filter: { action: 'escrow.discarded' } }).records;
    expect(discarded.map((r) => [r.nodeId, r.outcome, r.reason])).toEqual([['n1', 'failed', 'FP_COMMAND_FAILED']]);
  });

  it('stages a reset that waits for approval and discards it when rejected', async () => {
    const id = await reset('n2', 'ilmnadmin', 'Escrow-admin-pw-3');
    expect(changeRequestView(env.tc.ctx.store, id).request.state).toBe('pending_approval');
    expect(statusOf('n2', 'ilmnadmin')).toMatchObject({ inFlight: true, versions: 0, setAt: null });
    env.service.rejectChangeRequest(env.principal('abe'), id, 'not today');
    expect(statusOf('n2', 'ilmnadmin')).toMatchObject({ inFlight: false, versions: 0 });
    await expect(async () => reveal('n2', 'ilmnadmin')).rejects.toMatchObject({ code: 'FP_ESCROW_NOT_FOUND' });
  });

  it('keeps the configured number of previous passwords', async () => {
    for (const pw of ['Escrow-hist-pw-4', 'Escrow-hist-pw-5', 'Escrow-hist-pw-6'])
      expect((await finished(await reset('n1', 'ilmnuser', pw))).state).toBe('succeeded');
    expect(statusOf('n1', 'ilmnuser')).toMatchObject({ versions: 3 });
    const versions = env.tc.ctx.store.db
      .prepare(
        "SELECT version, state FROM escrow_secrets WHERE node_id = 'n1' AND account = 'ilmnuser' ORDER BY version",
      )
      .all();
    // Version 1 (the first password) is pruned; the discarded version 2 of the failed reset was never kept, so its number was used again.
    expect(versions).toEqual([
      { version: 2, state: 'previous' },
      { version: 3, state: 'previous' },
      { version: 4, state: 'current' },
    ]);
    expect(reveal('n1', 'ilmnuser')).toMatchObject({ password: 'Escrow-hist-pw-6' });
  });

  it('a sealed row moved to another account does not open', async () => {
    expect((await finished(await reset('n2', 'ilmnuser', 'Escrow-other-pw-7'))).state).toBe('succeeded');
    const db = env.tc.ctx.store.db;
    const row = (node: string) =>
      db
        .prepare(
          "SELECT id, key_iv, wrapped_key, key_tag, iv, ciphertext, tag FROM escrow_secrets WHERE node_id = ? AND account = 'ilmnuser' AND state = 'current'",
        )
        .get(node) as Record<string, Buffer>;
    const [a, b] = [row('n1'), row('n2')];
    const put = db.prepare(
      'UPDATE escrow_secrets SET key_iv = ?, wrapped_key = ?, key_tag = ?, iv = ?, ciphertext = ?, tag = ? WHERE id = ?',
    );
    put.run(a.key_iv, a.wrapped_key, a.key_tag, a.iv, a.ciphertext, a.tag, b.id);
    try {
      await expect(async () => reveal('n2', 'ilmnuser')).rejects.toMatchObject({ code: 'FP_ESCROW_UNREADABLE' });
    } finally {
      put.run(b.key_iv, b.wrapped_key, b.key_tag, b.iv, b.ciphertext, b.tag, b.id);
    }
    expect(reveal('n2', 'ilmnuser')).toMatchObject({ password: 'Escrow-other-pw-7' });
  });

  it('no password is in the database files, the log or the audit', () => {
    const files = databaseBytes(env);
    const audit = JSON.stringify([...env.tc.ctx.audit.iterate()]);
    expect(delivered.length).toBeGreaterThanOrEqual(6);
    for (const pw of delivered) {
      expect(containsSecret(files, pw)).toBe(false);
      expect(logs.text()).not.toContain(pw);
      expect(audit).not.toContain(pw);
    }
    expect(logs.text()).toContain('escrowed password now current');
  });
});

describe('escrow RPCs and roles', () => {
  const ROLES = { viewer: 'vic', operator: 'olga', approver: 'abe', admin: 'root-admin' } as const;
  const call = <Req, Res>(
    method: (req: Req, md: ReturnType<typeof bearer>, cb: (e: unknown, r: Res) => void) => unknown,
    req: Req,
    token: string,
  ) =>
    new Promise<Res>(
      (res, rej) =>
        void method.call(client, req, bearer(token), (e: unknown, r: Res) => (e ? rej(fromGrpcError(e)) : res(r))),
    );
  const code = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: FleetpassError) => e.code,
    );

  it('EscrowStatus and ListReveals for every role; RevealPassword and RotatePasswords not for a viewer; DecideReveal only for an approver', async () => {
    const outcomes: Record<string, string[]> = {};
    for (const [role, who] of Object.entries(ROLES)) {
      const t = tokenOf(env, who);
      outcomes[role] = [
        await code(call(client.escrowStatus, { selector: undefined }, t)),
        await code(call(client.listReveals, { openOnly: false }, t)),
        await code(
          call(
            client.revealPassword,
            { nodeId: 'n1', backend: Backend.BACKEND_LINUX, account: 'ilmnuser', reason: 'look', revealId: '' },
            t,
          ),
        ),
        await code(call(client.decideReveal, { revealId: 'nope', approve: true, note: '' }, t)),
      ];
    }
    expect(outcomes).toEqual({
      viewer: ['ok', 'ok', 'FP_FORBIDDEN', 'FP_FORBIDDEN'],
      operator: ['ok', 'ok', 'ok', 'FP_FORBIDDEN'],
      approver: ['ok', 'ok', 'ok', 'FP_REVEAL_NOT_FOUND'],
      admin: ['ok', 'ok', 'ok', 'FP_FORBIDDEN'],
    });
  });
});
