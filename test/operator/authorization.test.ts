/**
 * Who may do what, over the real AdminService on loopback: every RPC called with every role's real API
 * token (table-driven), each allowed exactly where the role table says and refused (FP_FORBIDDEN, audited
 * as access.denied) everywhere else; every RPC refused without a credential. The account policy refuses
 * (FP_POLICY_FORBIDDEN, audited) what no rule allows. The second-person rule through the CLI: a privileged
 * reset waits, never reaches the agent unapproved, cannot be approved by its requester (FP_SELF_APPROVAL,
 * audited), and reaches the node once another approver approves.
 */
import type { ClientReadableStream, Metadata, ServiceError } from '@grpc/grpc-js';
import { fromGrpcError, type FleetpassError } from '../../shared/errors';
import {
  ExportFormat,
  PasswordSource,
  Role,
  type AdminServiceClient,
  type RequestOperationsRequest,
  type WhoAmIResponse,
} from '../../shared/gen/fleetpass/v1/admin';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import type { Principal } from '../../controller/access/authenticate';
import type { OperatorRole } from '../../controller/store/operators-repo';
import { removeRoot } from '../helpers/controller-harness';
import { connectScriptedAgent, type ScriptedAgent } from '../controller/support/scripted-agent';
import {
  adminClient,
  bearer,
  startOperatorEnv,
  tokenOf,
  waitUntil,
  type OperatorEnv,
} from './support/operator-harness';
import { tokenSecret } from '../helpers/token-secret';
import { changeRequestView, listNodeViews } from '../../controller/store';

const ROLES: OperatorRole[] = ['viewer', 'operator', 'approver', 'admin'];
const WHO: Record<OperatorRole, string> = { viewer: 'vic', operator: 'otto', approver: 'anna', admin: 'root-admin' };

let env: OperatorEnv;
let client: AdminServiceClient;
const agents: ScriptedAgent[] = [];
let olga: Principal;
let seq = 0;

type Unary<Req, Res> = (req: Req, md: Metadata, cb: (e: ServiceError | null, r: Res) => void) => unknown;

function unary<Req, Res>(method: Unary<Req, Res>, req: Req, token: string | undefined): Promise<Res> {
  return new Promise((res, rej) => {
    method.call(client, req, bearer(token), (e, r) => (e ? rej(fromGrpcError(e)) : res(r)));
  });
}

async function drain<Res>(call: ClientReadableStream<Res>): Promise<Res[]> {
  const out: Res[] = [];
  try {
    for await (const m of call) out.push(m as Res);
  } catch (e) {
    throw fromGrpcError(e);
  }
  return out;
}

function resetRequest(over: Partial<RequestOperationsRequest> = {}): RequestOperationsRequest {
  return {
    selector: { nodeIds: ['n1'], labels: {}, all: false, lockedOnly: false },
    backend: Backend.BACKEND_LINUX,
    account: 'ilmnuser',
    action: Action.ACTION_UNLOCK,
    passwordSource: PasswordSource.PASSWORD_SOURCE_UNSPECIFIED,
    password: '',
    reason: 'AUTH-TEST',
    dryRun: false,
    ttlSeconds: 0,
    temporary: false,
    samePasswordOnAllNodes: false,
    ...over,
  };
}

/** A privileged reset by olga, waiting for approval. */
async function pendingByOlga(): Promise<string> {
  const r = await env.service.requestOperations(olga, {
    selection: { nodeIds: ['n1'] },
    backend: Backend.BACKEND_LINUX,
    account: 'root',
    action: Action.ACTION_RESET_PASSWORD,
    password: { source: 'generate' },
    reason: 'CHG-olga',
  });
  expect(r.request!.request.state).toBe('pending_approval');
  return r.request!.request.id;
}

interface Case {
  rpc: string;
  allowed: OperatorRole[];
  call(token: string | undefined): Promise<unknown>;
}

const CASES: Case[] = [
  { rpc: 'WhoAmI', allowed: ROLES, call: (t) => unary(client.whoAmI, {}, t) },
  { rpc: 'ListNodes', allowed: ROLES, call: (t) => unary(client.listNodes, { selector: undefined }, t) },
  {
    rpc: 'ListAccounts',
    allowed: ROLES,
    call: (t) => unary(client.listAccounts, { selector: undefined, lockedOnly: false, account: '', backend: 0 }, t),
  },
  {
    rpc: 'RevokeNode',
    allowed: ['admin'],
    call: (t) => unary(client.revokeNode, { nodeId: 'gone-1', reason: 'decommissioned' }, t),
  },
  {
    rpc: 'RequestOperations',
    allowed: ['operator', 'approver', 'admin'],
    call: (t) => unary(client.requestOperations, resetRequest(), t),
  },
  {
    rpc: 'ListChangeRequests',
    allowed: ROLES,
    call: (t) => unary(client.listChangeRequests, { states: [], limit: 10 }, t),
  },
  {
    rpc: 'GetChangeRequest',
    allowed: ROLES,
    call: async (t) => unary(client.getChangeRequest, { id: await pendingByOlga() }, t),
  },
  {
    rpc: 'ApproveChangeRequest',
    allowed: ['approver'],
    call: async (t) => unary(client.approveChangeRequest, { id: await pendingByOlga(), note: 'ok' }, t),
  },
  {
    rpc: 'RejectChangeRequest',
    allowed: ['approver'],
    call: async (t) => unary(client.rejectChangeRequest, { id: await pendingByOlga(), note: 'no' }, t),
  },
  {
    rpc: "CancelChangeRequest (someone else's)",
    allowed: ['admin'],
    call: async (t) => unary(client.cancelChangeRequest, { id: await pendingByOlga(), note: '' }, t),
  },
  {
    rpc: 'WatchChangeRequest',
    allowed: ROLES,
    call: async (t) => {
      const id = await pendingByOlga();
      await env.service.cancelChangeRequest(env.principal('root-admin'), id, 'so the stream ends');
      return drain(client.watchChangeRequest({ id }, bearer(t)));
    },
  },
  {
    rpc: 'QueryAudit',
    allowed: ROLES,
    call: (t) =>
      unary(client.queryAudit, { filter: undefined, limit: 5, afterSeq: 0, descending: true, beforeSeq: 0 }, t),
  },
  {
    rpc: 'ExportAudit',
    allowed: ROLES,
    call: (t) => drain(client.exportAudit({ filter: undefined, format: ExportFormat.EXPORT_FORMAT_JSONL }, bearer(t))),
  },
  { rpc: 'VerifyAudit', allowed: ROLES, call: (t) => unary(client.verifyAudit, {}, t) },
  {
    rpc: 'CreateEnrollmentToken',
    allowed: ['admin'],
    call: (t) => unary(client.createEnrollmentToken, { labels: {}, ttlSeconds: 600, nodeId: '' }, t),
  },
  { rpc: 'ListEnrollmentTokens', allowed: ['admin'], call: (t) => unary(client.listEnrollmentTokens, {}, t) },
  {
    rpc: 'RevokeEnrollmentToken',
    allowed: ['admin'],
    call: (t) => unary(client.revokeEnrollmentToken, { id: 'none' }, t),
  },
  {
    rpc: 'CreateOperator',
    allowed: ['admin'],
    call: (t) => unary(client.createOperator, { name: `new-${++seq}`, role: Role.ROLE_VIEWER }, t),
  },
  { rpc: 'ListOperators', allowed: ['admin'], call: (t) => unary(client.listOperators, {}, t) },
  {
    rpc: 'DisableOperator',
    allowed: ['admin'],
    call: (t) => {
      const name = `temp-${++seq}`;
      env.service.createOperator(env.principal('root-admin'), { name, role: 'viewer' });
      return unary(client.disableOperator, { name }, t);
    },
  },
  {
    rpc: "CreateApiToken (another operator's first)",
    allowed: ['admin'],
    call: (t) => {
      const name = `fresh-${++seq}`;
      env.service.createOperator(env.principal('root-admin'), { name, role: 'viewer' });
      return unary(client.createApiToken, { operator: name, ttlSeconds: 3600 }, t);
    },
  },
  {
    rpc: 'CreateApiToken (for oneself)',
    allowed: ROLES,
    call: async (t) => {
      const me = (await unary(client.whoAmI, {}, t)) as WhoAmIResponse;
      return unary(client.createApiToken, { operator: me.operator!.name, ttlSeconds: 3600 }, t);
    },
  },
  {
    rpc: 'RevealPassword',
    allowed: ['operator', 'approver', 'admin'],
    call: (t) =>
      unary(
        client.revealPassword,
        { nodeId: 'n1', backend: Backend.BACKEND_LINUX, account: 'ilmnuser', reason: 'look', revealId: '' },
        t,
      ),
  },
  {
    rpc: 'RotatePasswords',
    allowed: ['operator', 'approver', 'admin'],
    call: (t) =>
      unary(
        client.rotatePasswords,
        { selector: undefined, backend: Backend.BACKEND_LINUX, account: 'root', reason: 'rotate' },
        t,
      ),
  },
  { rpc: 'EscrowStatus', allowed: ROLES, call: (t) => unary(client.escrowStatus, { selector: undefined }, t) },
];

/** Extension RPCs are answered by later features; until then an allowed caller gets FP_ACTION_UNSUPPORTED. */
const EXTENSION_RPCS = new Set([
  'CreateEnrollmentToken',
  'ListEnrollmentTokens',
  'RevokeEnrollmentToken',
  'RevealPassword',
  'RotatePasswords',
  'EscrowStatus',
]);

const deniedCount = (actor: string) =>
  env.tc.ctx.audit.query({ filter: { action: 'access.denied', actor }, limit: 1000 }).records.length;

beforeAll(async () => {
  env = await startOperatorEnv({
    admin: { floodLimits: { auditedPerWindow: 1000, blockAfter: 10_000 } },
    config: {
      policy: {
        rules: [
          { roles: ['operator', 'approver', 'admin'], accounts: ['ilmnuser', 'ilmnadmin', 'root'] },
          { roles: ['admin'], accounts: ['*'] },
        ],
      },
    },
  });
  for (const [role, name] of Object.entries(WHO))
    if (name !== 'root-admin') env.addOperator(name, role as OperatorRole);
  env.addOperator('olga', 'operator');
  env.addOperator('abe', 'approver');
  olga = env.principal('olga');
  client = adminClient(env);
  for (const id of ['n1', 'gone-1'])
    agents.push(connectScriptedAgent({ address: env.tc.address, creds: await env.tc.nodeCredentials(id) }));
  await waitUntil(
    () => listNodeViews(env.tc.ctx.store).filter((n) => n.online).length === 2,
    10_000,
    'two scripted nodes',
  );
});

afterAll(async () => {
  client?.close();
  for (const a of agents) a.close();
  await env?.stop();
  if (env) removeRoot(env.tc.root);
});

describe('every RPC with every role', () => {
  for (const c of CASES) {
    for (const role of ROLES) {
      const allowed = c.allowed.includes(role);
      it(`${c.rpc} as ${role}: ${allowed ? 'allowed' : 'refused and audited'}`, async () => {
        const who = WHO[role];
        const before = deniedCount(who);
        const outcome = await c.call(tokenOf(env, who)).then(
          () => undefined,
          (e: FleetpassError) => e,
        );
        if (allowed) {
          if (EXTENSION_RPCS.has(c.rpc)) expect(outcome?.code ?? 'ok').not.toMatch(/FP_FORBIDDEN|FP_UNAUTHENTICATED/);
          else expect(outcome).toBeUndefined();
          expect(deniedCount(who)).toBe(before);
        } else {
          expect(outcome?.code).toBe('FP_FORBIDDEN');
          expect(deniedCount(who)).toBe(before + 1);
          const last = env.tc.ctx.audit.query({
            filter: { action: 'access.denied', actor: who },
            descending: true,
            limit: 1,
          }).records[0];
          expect(last.outcome).toBe('refused');
          expect(JSON.parse(last.detailsJson)).toMatchObject({ code: 'FP_FORBIDDEN', role });
        }
      });
    }
  }

  it('the extension RPCs answer FP_ACTION_UNSUPPORTED until their feature is installed', async () => {
    await expect(unary(client.escrowStatus, { selector: undefined }, tokenOf(env, 'vic'))).rejects.toMatchObject({
      code: 'FP_ACTION_UNSUPPORTED',
    });
  });
});

describe('no credential, bad credentials', () => {
  for (const c of CASES) {
    it(`${c.rpc} without a token: FP_UNAUTHENTICATED`, async () => {
      await expect(c.call(undefined)).rejects.toMatchObject({ code: 'FP_UNAUTHENTICATED' });
    });
  }

  it('audits every failed sign-in, with the token id but never the token', async () => {
    const forged = `${tokenOf(env, 'otto').slice(0, -4)}AAAA`;
    await expect(unary(client.whoAmI, {}, forged)).rejects.toMatchObject({ code: 'FP_UNAUTHENTICATED' });
    const last = env.tc.ctx.audit.query({ filter: { action: 'auth.failed' }, descending: true, limit: 1 }).records[0];
    expect(last).toMatchObject({ actor: 'unauthenticated', outcome: 'refused' });
    const details = JSON.parse(last.detailsJson);
    expect(details).toMatchObject({
      why: 'token-mismatch',
      what: 'WhoAmI',
      source: '127.0.0.1',
      tokenId: forged.split('_')[1],
    });
    expect(last.detailsJson).not.toContain(tokenSecret(forged));
    const failed = env.tc.ctx.audit.query({ filter: { action: 'auth.failed' }, limit: 1000 }).records;
    expect(failed.length).toBeGreaterThanOrEqual(CASES.length + 1);
  });

  it('a disabled operator is refused at once, with every token revoked', async () => {
    const token = tokenOf(env, 'olga');
    await expect(unary(client.whoAmI, {}, token)).resolves.toMatchObject({ operator: { name: 'olga' } });
    env.service.disableOperator(env.principal('root-admin'), 'olga');
    await expect(unary(client.whoAmI, {}, token)).rejects.toMatchObject({ code: 'FP_UNAUTHENTICATED' });
    const last = env.tc.ctx.audit.query({ filter: { action: 'auth.failed' }, descending: true, limit: 1 }).records[0];
    expect(JSON.parse(last.detailsJson)).toMatchObject({ why: 'token-revoked' });
  });

  it('the last admin cannot be disabled', async () => {
    await expect(
      unary(client.disableOperator, { name: 'root-admin' }, tokenOf(env, 'root-admin')),
    ).rejects.toMatchObject({ code: 'FP_LAST_ADMIN' });
  });
});

describe('account policy', () => {
  it('refuses what no rule allows, audited, and lets the role the rule names do it', async () => {
    const ask = resetRequest({ account: 'svcbackup' });
    const before = deniedCount('otto');
    await expect(unary(client.requestOperations, ask, tokenOf(env, 'otto'))).rejects.toMatchObject({
      code: 'FP_POLICY_FORBIDDEN',
    });
    expect(deniedCount('otto')).toBe(before + 1);
    const rec = env.tc.ctx.audit.query({
      filter: { action: 'access.denied', actor: 'otto' },
      descending: true,
      limit: 1,
    }).records[0];
    expect(rec).toMatchObject({ account: 'svcbackup', reason: 'AUTH-TEST' });
    expect(JSON.parse(rec.detailsJson)).toMatchObject({ code: 'FP_POLICY_FORBIDDEN', action: 'ACTION_UNLOCK' });
    await expect(unary(client.requestOperations, ask, tokenOf(env, 'root-admin'))).resolves.toMatchObject({
      request: { account: 'svcbackup' },
    });
  });

  it('refuses a request without a reason, and a supplied password that breaks the password policy, changing nothing', async () => {
    const count = env.tc.ctx.store.operations.listRequests({ limit: 1000 }).length;
    await expect(
      unary(client.requestOperations, resetRequest({ reason: '  ' }), tokenOf(env, 'otto')),
    ).rejects.toMatchObject({ code: 'FP_REASON_REQUIRED' });
    const weak = resetRequest({
      action: Action.ACTION_RESET_PASSWORD,
      passwordSource: PasswordSource.PASSWORD_SOURCE_PROVIDED,
      password: 'short',
    });
    const e = await unary(client.requestOperations, weak, tokenOf(env, 'otto')).catch((x: FleetpassError) => x);
    expect(e).toMatchObject({ code: 'FP_PASSWORD_POLICY' });
    expect((e as FleetpassError).message).not.toContain('short');
    expect(env.tc.ctx.store.operations.listRequests({ limit: 1000 })).toHaveLength(count);
  });
});

describe('the second-person rule, through the CLI', () => {
  let id = '';
  const n1 = () => agents[0];

  it('holds a privileged reset for approval and sends nothing to the agent', async () => {
    const r = await env.cli('anna', [
      'reset',
      '--node',
      'n1',
      '--account',
      'root',
      '--generate',
      '--reason',
      'CHG-9',
      '--yes',
    ]);
    expect(r.code).toBe(0);
    const m = /request (\S+) waits for approval by a second person/.exec(r.stdout);
    expect(m).not.toBeNull();
    id = m![1];
    expect(r.stdout).toContain(`fleetpass approve ${id}`);
    expect(r.stdout).toMatch(/new password \(shown once\)/);
    await new Promise((res) => setTimeout(res, 300));
    const ops = changeRequestView(env.tc.ctx.store, id).operations;
    expect(ops.map((o) => o.state)).toEqual(['requested']);
    expect(
      n1()
        .operations()
        .some((o) => o.id === ops[0].id),
    ).toBe(false);
  });

  it('refuses self-approval (audited); the operation still never reaches the agent', async () => {
    const before = deniedCount('anna');
    const r = await env.cli('anna', ['approve', id, '--note', 'my own']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'error FP_SELF_APPROVAL: You cannot approve or reject your own request; ask a second approver.',
    );
    expect(deniedCount('anna')).toBe(before + 1);
    const rec = env.tc.ctx.audit.query({
      filter: { action: 'access.denied', actor: 'anna' },
      descending: true,
      limit: 1,
    }).records[0];
    expect(rec).toMatchObject({ requestId: id, account: 'root' });
    expect(JSON.parse(rec.detailsJson)).toMatchObject({ code: 'FP_SELF_APPROVAL' });
    const opId = changeRequestView(env.tc.ctx.store, id).operations[0].id;
    expect(env.tc.ctx.store.operations.getOperation(opId)?.state).toBe('requested');
    expect(
      n1()
        .operations()
        .some((o) => o.id === opId),
    ).toBe(false);
    const r2 = await env.cli('anna', ['reject', id]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('FP_SELF_APPROVAL');
  });

  it('an operator cannot approve at all; another approver can, and then it reaches the node', async () => {
    const o = await env.cli('otto', ['approve', id]);
    expect(o.code).toBe(1);
    expect(o.stderr).toContain('error FP_FORBIDDEN');
    const a = await env.cli('abe', ['approve', id, '--note', 'checked with the lab']);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(a.stdout).toContain(`approved: ${id}`);
    const opId = changeRequestView(env.tc.ctx.store, id).operations[0].id;
    await n1().waitFor((m) => (m.message?.$case === 'operation' && m.message.operation.id === opId ? true : undefined));
    await waitUntil(() => changeRequestView(env.tc.ctx.store, id).request.state === 'done', 5000, 'the approved reset');
    const w = await env.cli('vic', ['watch', id, '--json']);
    expect(w.code).toBe(0);
    expect(JSON.parse(w.stdout)).toMatchObject({
      request: { approvedBy: 'abe', decisionNote: 'checked with the lab' },
      operations: [{ state: 'OPERATION_STATE_SUCCEEDED' }],
    });
  });

  it('a rejected privileged reset never reaches the agent, and its sealed password is erased', async () => {
    const r = await env.cli(
      'otto',
      ['reset', '--node', 'n1', '--account', 'ilmnadmin', '--password-stdin', '--reason', 'CHG-10'],
      { stdin: 'Lab-Instrument-Pw-42\n' },
    );
    expect(r.code).toBe(0);
    const reqId = /request (\S+) waits for approval/.exec(r.stdout)![1];
    const opId = changeRequestView(env.tc.ctx.store, reqId).operations[0].id;
    const sealed = () =>
      env.tc.ctx.store.db.prepare('SELECT count(*) FROM pending_secrets WHERE operation_id = ?').pluck().get(opId);
    expect(sealed()).toBe(1);
    const x = await env.cli('abe', ['reject', reqId, '--note', 'use unlock instead']);
    expect(x.code).toBe(0);
    expect(env.tc.ctx.store.operations.getOperation(opId)?.state).toBe('cancelled');
    expect(sealed()).toBe(0);
    expect(
      n1()
        .operations()
        .some((o) => o.id === opId),
    ).toBe(false);
  });
});
