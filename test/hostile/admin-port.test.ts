/**
 * Hostile input on the admin API from an authenticated operator (a stolen token, a buggy script) and
 * from someone guessing tokens: an oversized request, malformed protobuf, unknown enum values, control
 * characters, bidirectional overrides and invalid UTF-8 in reasons and notes, shell metacharacters and
 * path traversal in account names, and token guessing over many connections. Each is refused with a
 * clear error and a log line, nothing is recorded but the refusal, nothing reaches a node, and no
 * guessed secret shows up in a log line or an audit record.
 * (Elsewhere: roles and policy refusals in test/operator/authorization.test.ts; the API-token flood
 * window in test/operator/credentials.test.ts; enrollment token limits in test/enroll/tokens.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { bootstrapAdmin } from '../../controller/commands/bootstrap-admin';
import { systemClock } from '../../shared/clock';
import { AdminServiceClient, PasswordSource, RequestOperationsRequest } from '../../shared/gen/fleetpass/v1/admin';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import {
  captureLogs,
  removeRoot,
  startTestController,
  type LogCapture,
  type TestController,
} from '../helpers/controller-harness';
import { connectScriptedAgent, type ScriptedAgent } from '../controller/support/scripted-agent';
import { protobuf, rawClient, tlsCredentials } from './support/raw-client';
import { changeRequestView } from '../../controller/store';

const MAX_MESSAGE = 64 * 1024;
let tc: TestController;
let logs: LogCapture;
let token: string;
let client: AdminServiceClient;
let node: ScriptedAgent;

beforeAll(async () => {
  logs = captureLogs('info');
  tc = await startTestController({ log: logs.logger, config: { maxMessageBytes: MAX_MESSAGE } });
  const boot = bootstrapAdmin(tc.ctx.store.db, systemClock, { name: 'root-admin' });
  const service = tc.ctx.service;
  const p = service.principalFor(boot.operator, 'local');
  service.createOperator(p, { name: 'otto', role: 'operator' });
  token = service.createApiToken(p, { operator: 'otto' }).token;
  client = new AdminServiceClient(tc.adminAddress, credentials.createSsl(Buffer.from(tc.ctx.pki.ca.certPem)), {
    'grpc.ssl_target_name_override': 'localhost',
  });
  node = connectScriptedAgent({ address: tc.address, creds: await tc.nodeCredentials('target-1') });
  await node.waitFor((m) => m.message?.$case === 'welcome' || undefined);
});
afterAll(async () => {
  node.close();
  client.close();
  await tc.stop();
  removeRoot(tc.root);
});

function md(t = token): Metadata {
  const m = new Metadata();
  m.set('authorization', `Bearer ${t}`);
  return m;
}

/** RequestOperations through the generated client; resolves with the error (undefined on success). */
function request(partial: Partial<RequestOperationsRequest>, t = token): Promise<ServiceError | undefined> {
  const req = RequestOperationsRequest.fromPartial({
    selector: { nodeIds: ['target-1'] },
    backend: Backend.BACKEND_LINUX,
    account: 'ilmnuser',
    action: Action.ACTION_UNLOCK,
    passwordSource: PasswordSource.PASSWORD_SOURCE_UNSPECIFIED,
    reason: 'INC-1',
    ...partial,
  });
  return new Promise((res) => client.requestOperations(req, md(t), (e) => res(e ?? undefined)));
}

const fpCode = (e: ServiceError | undefined) => {
  const v = e?.metadata?.get('fp-error-code')[0];
  return v === undefined ? undefined : String(v);
};
const requests = () => tc.ctx.store.operations.listRequests().length;

/** Records nothing but refusals, and sends nothing to the node. */
async function expectNothingChanged(run: () => Promise<void>): Promise<void> {
  const before = {
    requests: requests(),
    ops: node.operations().length,
    audit: tc.ctx.audit.query({ limit: 1000 }).records.filter((r) => !/refused|failed/.test(r.action + r.outcome))
      .length,
  };
  await run();
  await new Promise((r) => setTimeout(r, 100));
  const after = {
    requests: requests(),
    ops: node.operations().length,
    audit: tc.ctx.audit.query({ limit: 1000 }).records.filter((r) => !/refused|failed/.test(r.action + r.outcome))
      .length,
  };
  expect(after).toEqual(before);
}

describe('hostile input on the admin API', () => {
  it('refuses a request larger than maxMessageBytes with RESOURCE_EXHAUSTED', async () => {
    await expectNothingChanged(async () => {
      const err = await request({ reason: `INC-${'x'.repeat(MAX_MESSAGE + 10)}` });
      expect(err?.code).toBe(status.RESOURCE_EXHAUSTED);
    });
  });

  it('refuses malformed protobuf with INTERNAL and logs the method and size', async () => {
    const raw = rawClient(tc.adminAddress, tlsCredentials(tc.ctx.pki.ca.certPem));
    try {
      await expectNothingChanged(async () => {
        const err = await raw
          .unary('requestOperations', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), {
            authorization: `Bearer ${token}`,
          })
          .then(
            () => undefined,
            (e: ServiceError) => e,
          );
        expect(err?.code).toBe(status.INTERNAL);
      });
    } finally {
      raw.close();
    }
    expect(logs.lines().filter((l) => l.msg === 'malformed message refused')).toContainEqual(
      expect.objectContaining({ method: '/fleetpass.v1.AdminService/RequestOperations', bytes: 6 }),
    );
  });

  it('refuses unknown backends and actions with FP_INVALID_ARGUMENT', async () => {
    await expectNothingChanged(async () => {
      const backend = await request({ backend: 42 as Backend });
      expect([fpCode(backend), backend?.details]).toEqual([
        'FP_INVALID_ARGUMENT',
        'choose the backend: linux, ssr or lrm',
      ]);
      const action = await request({ action: 99 as Action });
      expect([fpCode(action), action?.details]).toEqual([
        'FP_INVALID_ARGUMENT',
        'the action must be unlock or reset-password',
      ]);
    });
  });

  it('refuses control characters, bidirectional overrides and invalid UTF-8 in a reason or a note', async () => {
    await expectNothingChanged(async () => {
      for (const [reason, shown] of [
        ['INC-1\u001b[2J', 'U+001B'],
        ['INC-1\u0000', 'U+0000'],
        ['INC-\u202e1-CNI', 'U+202E'],
        ['INC-1\rforged: entry', 'U+000D'],
      ]) {
        const err = await request({ reason });
        expect({ reason, code: fpCode(err), details: err?.details }).toEqual({
          reason,
          code: 'FP_INVALID_ARGUMENT',
          details: expect.stringContaining(shown),
        });
      }
      // The reason's bytes (field 7) are not UTF-8; protobuf decodes them to U+FFFD.
      const raw = rawClient(tc.adminAddress, tlsCredentials(tc.ctx.pki.ca.certPem));
      try {
        const body = Buffer.concat([
          protobuf.bytes(1, protobuf.bytes(1, 'target-1')),
          protobuf.int(2, Backend.BACKEND_LINUX),
          protobuf.bytes(3, 'ilmnuser'),
          protobuf.int(4, Action.ACTION_UNLOCK),
          protobuf.bytes(7, Buffer.from([0x49, 0x4e, 0x43, 0xc3, 0x28])),
        ]);
        const err = await raw.unary('requestOperations', body, { authorization: `Bearer ${token}` }).then(
          () => undefined,
          (e: ServiceError) => e,
        );
        expect([fpCode(err), err?.details]).toEqual(['FP_INVALID_ARGUMENT', expect.stringContaining('invalid UTF-8')]);
      } finally {
        raw.close();
      }
    });
    // A note on a decision: the request exists, the note is refused, the request is unchanged.
    tc.ctx.store.nodes.ensure('offline-1', new Date());
    const pending = await new Promise<string>((res, rej) =>
      client.requestOperations(
        RequestOperationsRequest.fromPartial({
          selector: { nodeIds: ['offline-1'] },
          backend: Backend.BACKEND_LINUX,
          account: 'ilmnuser',
          action: Action.ACTION_UNLOCK,
          reason: 'INC-2',
        }),
        md(),
        (e, r) => (e ? rej(e) : res(r!.request!.id)),
      ),
    );
    const cancel = await new Promise<ServiceError | undefined>((res) =>
      client.cancelChangeRequest({ id: pending, note: 'oops\u001b]0;owned\u0007' }, md(), (e) => res(e ?? undefined)),
    );
    expect([fpCode(cancel), cancel?.details]).toEqual([
      'FP_INVALID_ARGUMENT',
      'the note contains a control character (U+001B) at position 5; use plain printable text',
    ]);
    expect(changeRequestView(tc.ctx.store, pending).request.state).not.toBe('cancelled');
  });

  it('refuses shell metacharacters and path traversal in account names before anything is recorded or sent', async () => {
    const names = [
      'ilmnuser;reboot',
      '$(id)',
      '`id`',
      'a|b',
      'a&&b',
      '../../etc/shadow',
      '..',
      '-rf',
      'a b',
      'ilmn\nuser',
      'root\u0000',
      '*',
      'x'.repeat(33),
    ];
    await expectNothingChanged(async () => {
      for (const account of names) {
        const err = await request({ account });
        expect({ account, code: fpCode(err) }).toEqual({ account, code: 'FP_ACCOUNT_NAME_INVALID' });
        // The name is quoted as JSON in the message: no raw newline or NUL comes back.
        expect(err?.details).not.toMatch(new RegExp(String.raw`[\n\u0000]`));
      }
    });
  });

  it('blocks token guessing over many connections, audits a bounded number of attempts, and never records a guessed secret', async () => {
    const guesses = Array.from(
      { length: 40 },
      () => `fpt_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`,
    );
    const auditBefore = tc.ctx.audit.query({ filter: { action: 'auth.failed' }, limit: 1000 }).records.length;
    const codes: string[] = [];
    for (const guess of guesses) {
      // A new channel per guess: a new source port each time.
      const c = new AdminServiceClient(tc.adminAddress, credentials.createSsl(Buffer.from(tc.ctx.pki.ca.certPem)), {
        'grpc.ssl_target_name_override': 'localhost',
      });
      codes.push(
        await new Promise<string>((res) => c.whoAmI({}, md(guess), (e) => res(fpCode(e ?? undefined) ?? 'ok'))),
      );
      c.close();
    }
    expect(codes.slice(0, 30)).toEqual(Array(30).fill('FP_UNAUTHENTICATED'));
    expect(codes.slice(30)).toEqual(Array(10).fill('FP_RATE_LIMITED'));
    const audited = tc.ctx.audit.query({ filter: { action: 'auth.failed' }, limit: 1000 }).records.slice(auditBefore);
    expect(audited.length).toBeLessThanOrEqual(5);
    const everything = logs.text() + JSON.stringify(tc.ctx.audit.query({ limit: 1000 }).records);
    for (const guess of guesses) expect(everything).not.toContain(guess.slice(-43));
    expect(everything).not.toContain(token.slice(-43));
  });
});
