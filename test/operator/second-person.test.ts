/**
 * The second-person rule cannot be walked around by one admin: an admin hands another operator only
 * their first API token (FP_TOKEN_HANDED_OVER after that, audited), and a decision is refused
 * (FP_APPROVER_NOT_INDEPENDENT, audited, nothing changes) when the approver's account was created by the
 * requester, or the token used was handed over by the requester or made with one they could hold. An
 * approver who signed in with a credential of their own decides. An account that a node reports as uid 0
 * is privileged whatever its name. Over the real AdminService on TLS, with a scripted node.
 */
import type { Metadata, ServiceError } from '@grpc/grpc-js';
import { fromGrpcError, type FleetpassError } from '../../shared/errors';
import {
  PasswordSource,
  type AdminServiceClient,
  type CreateApiTokenResponse,
  type RequestOperationsRequest,
  type RequestOperationsResponse,
} from '../../shared/gen/fleetpass/v1/admin';
import { StateReportTrigger } from '../../shared/gen/fleetpass/v1/agent';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { issueApiToken, tokenId } from '../../controller/access/api-tokens';
import { issueOperatorCertificate } from '../../controller/access/operator-certs';
import { createOperator } from '../../controller/access/operators';
import { createOperatorsRepo } from '../../controller/store/operators-repo';
import { removeRoot } from '../helpers/controller-harness';
import { accountState, connectScriptedAgent, type ScriptedAgent } from '../controller/support/scripted-agent';
import {
  adminClient,
  bearer,
  startOperatorEnv,
  tokenOf,
  waitUntil,
  type OperatorEnv,
} from './support/operator-harness';
import { changeRequestView, listAccountViews } from '../../controller/store';
import { recordAudited } from '../../controller/audit';

let env: OperatorEnv;
let client: AdminServiceClient;
let node: ScriptedAgent;

type Unary<Req, Res> = (req: Req, md: Metadata, cb: (e: ServiceError | null, r: Res) => void) => unknown;

function unary<Req, Res>(
  method: Unary<Req, Res>,
  req: Req,
  token: string | undefined,
  via: AdminServiceClient = client,
): Promise<Res> {
  return new Promise((res, rej) =>
    method.call(via, req, bearer(token), (e, r) => (e ? rej(fromGrpcError(e)) : res(r))),
  );
}

/** A token for `operator`, made by whoever `token` (or, without one, `via`'s certificate) belongs to. */
const makeToken = (operator: string, token: string | undefined, via: AdminServiceClient = client) =>
  unary(client.createApiToken, { operator, ttlSeconds: 3600 }, token, via) as Promise<CreateApiTokenResponse>;

const repo = () => createOperatorsRepo(env.tc.ctx.store.db);
const denied = (code: string) =>
  env.tc.ctx.audit
    .query({ filter: { action: 'access.denied' }, limit: 1000 })
    .records.filter((r) => JSON.parse(r.detailsJson).code === code);

/** An operator made on the controller host (not by root-admin), with a token made there too. */
function localOperator(name: string, role: 'approver' | 'operator', withToken = true): string {
  createOperator(
    {
      repo: repo(),
      audited: (fn) => recordAudited(env.tc.ctx.store.db, () => fn(env.tc.ctx.audit)),
      now: () => new Date(),
    },
    { name, role, by: 'local:test' },
  );
  return withToken
    ? issueApiToken(repo(), name, { createdBy: 'local:test', ttlSeconds: 3600, now: new Date() }).token
    : '';
}

function privilegedReset(): RequestOperationsRequest {
  return {
    selector: { nodeIds: ['n1'], labels: {}, all: false, lockedOnly: false },
    backend: Backend.BACKEND_LINUX,
    account: 'root',
    action: Action.ACTION_RESET_PASSWORD,
    passwordSource: PasswordSource.PASSWORD_SOURCE_GENERATE,
    password: '',
    reason: 'CHG-1',
    dryRun: false,
    ttlSeconds: 0,
    temporary: false,
    samePasswordOnAllNodes: false,
  };
}

/** root-admin asks for a privileged reset; returns the pending request id. */
async function adminAsks(): Promise<string> {
  const r = (await unary(
    client.requestOperations,
    privilegedReset(),
    tokenOf(env, 'root-admin'),
  )) as RequestOperationsResponse;
  return r.request!.id;
}

const stateOf = (id: string) => changeRequestView(env.tc.ctx.store, id).request.state;

beforeAll(async () => {
  env = await startOperatorEnv({ admin: { floodLimits: { auditedPerWindow: 1000, blockAfter: 10_000 } } });
  env.addOperator('otto', 'operator');
  client = adminClient(env);
  node = connectScriptedAgent({ address: env.tc.address, creds: await env.tc.nodeCredentials('n1') });
  await waitUntil(() => env.tc.ctx.store.nodes.get('n1')?.online, 10_000, 'n1 online');
});

afterAll(async () => {
  client?.close();
  node?.close();
  await env?.stop();
  if (env) removeRoot(env.tc.root);
});

describe('tokens for other operators', () => {
  it('an admin hands over only the first token; after that only the operator makes more, and the refusal is audited', async () => {
    const annaToken = localOperator('anna', 'approver');
    const before = repo().tokensOf('anna').length;
    const err = await makeToken('anna', tokenOf(env, 'root-admin')).catch((e: FleetpassError) => e);
    expect(err).toMatchObject({ code: 'FP_TOKEN_HANDED_OVER' });
    expect((err as FleetpassError).message).toContain('only anna can make more');
    expect(repo().tokensOf('anna')).toHaveLength(before);
    const record = denied('FP_TOKEN_HANDED_OVER').pop()!;
    expect(record.actor).toBe('root-admin');
    expect(JSON.parse(record.detailsJson)).toMatchObject({
      operator: 'anna',
      what: 'creating an API token for another operator',
    });

    // anna makes her own; an approver may not make one for someone else.
    await expect(makeToken('anna', annaToken)).resolves.toMatchObject({ token: expect.stringMatching(/^fpt_/) });
    await expect(makeToken('otto', annaToken)).rejects.toMatchObject({ code: 'FP_FORBIDDEN' });
    expect(repo().tokensOf('anna')).toHaveLength(before + 1);
  });
});

describe('deciding as someone the requester set up', () => {
  it('refuses a stand-in approver the requester created (approve and reject), audits it, and the request stays pending', async () => {
    env.service.createOperator(env.principal('root-admin'), { name: 'stooge', role: 'approver' });
    const stooge = (await makeToken('stooge', tokenOf(env, 'root-admin'))).token;
    const id = await adminAsks();
    expect(stateOf(id)).toBe('pending_approval');
    const refusals = denied('FP_APPROVER_NOT_INDEPENDENT').length;
    await expect(unary(client.approveChangeRequest, { id, note: 'ok' }, stooge)).rejects.toMatchObject({
      code: 'FP_APPROVER_NOT_INDEPENDENT',
    });
    await expect(unary(client.rejectChangeRequest, { id, note: 'no' }, stooge)).rejects.toMatchObject({
      code: 'FP_APPROVER_NOT_INDEPENDENT',
    });
    const records = denied('FP_APPROVER_NOT_INDEPENDENT');
    expect(records).toHaveLength(refusals + 2);
    expect(records.at(-1)).toMatchObject({
      actor: 'stooge',
      requestId: id,
      reason: 'root-admin created the operator stooge',
    });
    expect(JSON.parse(records.at(-1)!.detailsJson)).toMatchObject({
      requestedBy: 'root-admin',
      operatorCreatedBy: 'root-admin',
    });
    expect(stateOf(id)).toBe('pending_approval');
    expect(node.operations()).toEqual([]);
  });

  it('refuses a token the requester handed over, and one made with it, also through a web console session', async () => {
    localOperator('bea', 'approver', false);
    const handed = await makeToken('bea', tokenOf(env, 'root-admin'));
    // The admin keeps the handed-over token and makes "bea's own" with it: still one the admin could hold.
    const laundered = await makeToken('bea', handed.token);
    expect(repo().getToken(tokenId(laundered.token)!)!.knownTo).toEqual(expect.arrayContaining(['bea', 'root-admin']));
    const id = await adminAsks();
    for (const token of [handed.token, laundered.token]) {
      await expect(unary(client.approveChangeRequest, { id, note: 'ok' }, token)).rejects.toMatchObject({
        code: 'FP_APPROVER_NOT_INDEPENDENT',
      });
    }
    const session = env.service.principalFor('bea', 'session', '127.0.0.1', tokenId(laundered.token)!);
    await expect(env.service.approveChangeRequest(session, id, 'ok')).rejects.toMatchObject({
      code: 'FP_APPROVER_NOT_INDEPENDENT',
    });
    expect(denied('FP_APPROVER_NOT_INDEPENDENT').at(-1)!.reason).toBe(
      `root-admin could hold the token ${tokenId(laundered.token)!} that bea signed in with`,
    );
    expect(stateOf(id)).toBe('pending_approval');

    // bea signs in with an operator certificate from the controller host and makes a token of her own: that one decides.
    const cert = await issueOperatorCertificate(env.tc.ctx.pki.ca, 'bea');
    const withCert = adminClient(env, cert);
    try {
      const own = await makeToken('bea', undefined, withCert);
      expect(repo().getToken(tokenId(own.token)!)!.knownTo).toEqual(['bea']);
      await expect(unary(client.approveChangeRequest, { id, note: 'checked' }, own.token)).resolves.toBeDefined();
    } finally {
      withCert.close();
    }
    expect(changeRequestView(env.tc.ctx.store, id).request).toMatchObject({ approvedBy: 'bea' });
    await waitUntil(
      () => node.operations().some((o) => o.requestedBy === 'root-admin'),
      5000,
      'the approved reset at the node',
    );
  });

  it('an approver the requester never set up decides on the first try', async () => {
    const cleo = localOperator('cleo', 'approver');
    const id = await adminAsks();
    await expect(unary(client.approveChangeRequest, { id, note: 'ok' }, cleo)).resolves.toBeDefined();
    expect(changeRequestView(env.tc.ctx.store, id).request.approvedBy).toBe('cleo');
  });
});

describe('uid 0 under another name', () => {
  it('is privileged: listed so, and a request for it waits for a second person', async () => {
    node.send({
      message: {
        $case: 'stateReport',
        stateReport: {
          accounts: [
            accountState('toor', true, { details: { 'linux.uid': '0' } }),
            accountState('ilmnuser', true, { details: { 'linux.uid': '1001' } }),
          ],
          trigger: StateReportTrigger.STATE_REPORT_TRIGGER_CHANGE,
          requestId: '',
          complete: false,
        },
      },
    });
    await waitUntil(() => listAccountViews(env.tc.ctx.store, { account: 'toor' }).length === 1, 5000, 'toor reported');
    const listed = env.service.listAccounts(env.principal('otto'), {});
    expect(Object.fromEntries(listed.map((a) => [a.account.state.account, a.privileged]))).toMatchObject({
      toor: true,
      ilmnuser: false,
    });

    const ask = (account: string) =>
      env.service.requestOperations(env.principal('otto'), {
        selection: { nodeIds: ['n1'] },
        backend: Backend.BACKEND_LINUX,
        account,
        action: Action.ACTION_UNLOCK,
        reason: 'INC-7',
      });
    const toor = await ask('toor');
    expect(toor).toMatchObject({
      needsApproval: true,
      privileged: true,
      request: { request: { state: 'pending_approval', privileged: true } },
    });
    expect(toor.warnings).toContain("n1: toor has uid 0 there, so the request needs a second person's approval");
    const plain = await ask('ilmnuser');
    expect(plain).toMatchObject({ needsApproval: false, privileged: false });
    expect(node.operations().map((o) => o.account)).not.toContain('toor');
  });
});

describe('provider users (signed in through the identity provider)', () => {
  it('a different person at the provider decides; the requester does not; one operator per provider subject', async () => {
    const issuer = 'https://idp.lab.example';
    const now = new Date().toISOString();
    for (const [name, role, subject] of [
      ['pia', 'approver', 'sub-pia'],
      ['paul', 'approver', 'sub-paul'],
    ] as const) {
      repo().insertFromProvider({ name, role, roleSource: 'group:lab-leads', issuer, subject, displayName: name, now });
    }
    const session = (name: string) =>
      issueApiToken(repo(), name, { createdBy: name, ttlSeconds: 600, now: new Date(), kind: 'session' }).token;
    const pia = session('pia');
    const paul = session('paul');
    const r = (await unary(client.requestOperations, privilegedReset(), pia)) as RequestOperationsResponse;
    const id = r.request!.id;
    expect(stateOf(id)).toBe('pending_approval');
    await expect(unary(client.approveChangeRequest, { id, note: 'mine' }, pia)).rejects.toMatchObject({
      code: 'FP_SELF_APPROVAL',
    });
    await expect(unary(client.approveChangeRequest, { id, note: 'checked' }, paul)).resolves.toBeDefined();
    expect(stateOf(id)).not.toBe('pending_approval');
    // The same person at the provider cannot be a second operator (and so a second approver).
    expect(() =>
      repo().insertFromProvider({
        name: 'pia2',
        role: 'approver',
        roleSource: 'group:lab-leads',
        issuer,
        subject: 'sub-pia',
        displayName: 'pia',
        now,
      }),
    ).toThrow(/UNIQUE/);
  });
});
