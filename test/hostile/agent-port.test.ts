/**
 * Hostile input on the agent port, from a client holding a valid node certificate (the worst case: a
 * compromised or broken agent) or from no TLS client at all. Each gets a clear error, leaves a log line
 * without secrets, and changes nothing it should not: malformed protobuf, unknown enum values, control
 * characters and invalid UTF-8 in a hello, a flood of hellos, of messages, and of results for
 * operations the node was never sent, and bytes that are not TLS.
 * (Elsewhere: a message over maxMessageBytes in test/controller/agent-stream.test.ts; TLS without a
 * client certificate and certificates from another CA in test/enroll/agent-port-auth.test.ts.)
 */
import { randomUUID } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { status, type ServiceError } from '@grpc/grpc-js';
import { ConnectRequest } from '../../shared/gen/fleetpass/v1/agent';
import { Action, Backend, OperationOutcome } from '../../shared/gen/fleetpass/v1/common';
import {
  captureLogs,
  removeRoot,
  startTestController,
  type LogCapture,
  type TestController,
} from '../helpers/controller-harness';
import { accountState, connectScriptedAgent, succeed, type ScriptedAgent } from '../controller/support/scripted-agent';
import { protobuf, rawClient, tcpSend, tlsCredentials, type RawClient } from './support/raw-client';
import { listAccountViews } from '../../controller/store';
import { fakeClock } from '../../shared/clock';
import type { AccountState } from '../../shared/gen/fleetpass/v1/common';
import { waitUntil } from '../helpers/wait-until';

const LIMITS = {
  windowSeconds: 60,
  connectsPerWindow: 8,
  rejectedResultsPerWindow: 3,
  messageBurst: 40,
  messagesPerSecond: 10,
};

let tc: TestController;
let logs: LogCapture;
const agents: ScriptedAgent[] = [];
const raws: RawClient[] = [];

beforeEach(async () => {
  logs = captureLogs('info');
  tc = await startTestController({ log: logs.logger, deps: { nodeLimits: LIMITS } });
});
afterEach(async () => {
  for (const a of agents.splice(0)) a.close();
  for (const r of raws.splice(0)) r.close();
  await tc.stop();
  removeRoot(tc.root);
});

async function scripted(
  nodeId: string,
  o: Partial<Parameters<typeof connectScriptedAgent>[0]> = {},
): Promise<ScriptedAgent> {
  const a = connectScriptedAgent({ address: tc.address, creds: await tc.nodeCredentials(nodeId), ...o });
  agents.push(a);
  return a;
}

const welcomed = (a: ScriptedAgent) => a.waitFor((m) => m.message?.$case === 'welcome' || undefined);
const fpCode = (e: ServiceError | undefined) => {
  const v = e?.metadata?.get('fp-error-code')[0];
  return v === undefined ? undefined : String(v);
};

/** "welcome", or the FP_ code the stream ended with; no timer is left behind. */
async function outcome(a: ScriptedAgent): Promise<string> {
  // Generous: the suite runs on a shared, loaded machine; a healthy outcome arrives in milliseconds.
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    if (a.received.some((m) => m.message?.$case === 'welcome')) return 'welcome';
    const ended = await a.ended(20).then(
      (e) => fpCode(e) ?? 'ended',
      () => undefined,
    );
    if (ended) return ended;
  }
  return 'timeout';
}
const audit = (action: string, nodeId?: string) =>
  tc.ctx.audit.query({ filter: { action, nodeId }, limit: 1000 }).records;
const logLines = (msg: string) => logs.lines().filter((l) => l.msg === msg);

/** Proves the port still serves a well-behaved node. */
async function stillServes(): Promise<void> {
  const ok = await scripted(`healthy-${randomUUID().slice(0, 8)}`);
  await welcomed(ok);
}

describe('hostile input on the agent port', () => {
  it('refuses malformed protobuf before any handler runs, logs the method and size, and records nothing', async () => {
    const creds = await tc.nodeCredentials('hostile-bytes');
    const cases: Array<[string, Buffer, status]> = [
      ['an invalid tag', Buffer.from([0xff, 0xff, 0xff, 0xff]), status.INTERNAL],
      ['a string running past the end', protobuf.bytes(1, Buffer.from([0x0a, 0x7f])), status.INTERNAL],
      ['a truncated varint', Buffer.from([0x08]), status.INTERNAL],
      // Valid protobuf that carries nothing this controller knows: the first message is not a hello.
      ['a hello field of the wrong wire type', protobuf.int(1, 5), status.INVALID_ARGUMENT],
    ];
    const auditBefore = tc.ctx.audit.count();
    for (const [what, bytes, code] of cases) {
      const c = rawClient(tc.address, tlsCredentials(creds.caPem, creds.keyPem, creds.certPem));
      raws.push(c);
      const s = c.connect();
      s.call.write(bytes);
      expect({ what, code: (await s.ended)?.code }).toEqual({ what, code });
      expect(s.received).toEqual([]);
    }
    const malformed = logLines('malformed message refused');
    expect(malformed).toHaveLength(3);
    expect(malformed[0]).toMatchObject({ level: 'warn', method: '/fleetpass.v1.AgentService/Connect', bytes: 4 });
    expect(tc.ctx.store.nodes.get('hostile-bytes')).toBeUndefined();
    expect(tc.ctx.audit.count()).toBe(auditBefore);
    await stillServes();
  });

  it('leaves unknown enum values out of the inventory, and ends an operation answered with an unknown outcome as failed, once', async () => {
    const a = await scripted('hostile-enum', {
      hello: {
        backends: [Backend.BACKEND_LINUX, 99 as Backend],
        policy: [
          { backend: 77 as Backend, account: 'ilmnuser', actions: [Action.ACTION_UNLOCK] },
          { backend: Backend.BACKEND_LINUX, account: 'ilmnuser', actions: [Action.ACTION_UNLOCK, 55 as Action] },
        ],
      },
      answer: (op) => ({ ...succeed(op), outcome: 77 as OperationOutcome }),
    });
    await welcomed(a);
    a.send({
      message: {
        $case: 'stateReport',
        stateReport: {
          accounts: [accountState('ilmnuser', true), accountState('other', true, { backend: 9 as Backend })],
          trigger: 0,
          requestId: '',
          complete: true,
        },
      },
    });
    // The report is handled once its valid entry is stored (the dropped one is logged in the same pass).
    await waitUntil(
      () => tc.ctx.store.accounts.get('hostile-enum', Backend.BACKEND_LINUX, 'ilmnuser'),
      30_000,
      'the state report',
    );
    const node = tc.ctx.store.nodes.get('hostile-enum')!;
    expect(node.backends).toEqual([Backend.BACKEND_LINUX]);
    expect(node.policy).toEqual([
      { backend: Backend.BACKEND_LINUX, account: 'ilmnuser', actions: [Action.ACTION_UNLOCK] },
    ]);
    expect(logLines('hello names backends or actions this controller does not know; left out')[0]).toMatchObject({
      backends: [99, 77],
      actions: [55],
    });
    expect(
      listAccountViews(tc.ctx.store, { selection: { nodeIds: ['hostile-enum'] } }).map((x) => x.account.state.account),
    ).toEqual(['ilmnuser']);
    expect(logLines('state report entry dropped')[0]).toMatchObject({ problem: 'unknown backend 9' });

    const { operations } = await tc.request({ nodeIds: ['hostile-enum'] });
    await waitUntil(
      () => tc.ctx.store.operations.getOperation(operations[0].id)?.state === 'failed',
      30_000,
      'the operation to fail',
    );
    const recorded = audit('operation.failed');
    expect(recorded).toHaveLength(1);
    expect(JSON.parse(recorded[0].detailsJson)).toMatchObject({ outcome: '77' });
  });

  it('refuses a hello with control characters or invalid UTF-8, keeps the node as it was, and audits why', async () => {
    const clean = await scripted('hostile-text', { hello: { hostname: 'clean.lab' } });
    await welcomed(clean);
    clean.close();
    const bad: Array<[string, Record<string, unknown>]> = [
      ['a terminal escape in the hostname', { hostname: 'evil\u001b[2J.lab' }],
      ['a NUL in a label', { labels: { site: 'a\u0000b' } }],
      ['a right-to-left override in the platform', { platform: 'nextseq\u202e0002' }],
    ];
    for (const [what, hello] of bad) {
      const a = await scripted('hostile-text', { hello });
      const err = await a.ended();
      expect({ what, code: fpCode(err), details: err?.details }).toEqual({
        what,
        code: 'FP_INVALID_ARGUMENT',
        details: expect.stringMatching(/^the hello is refused: .* contains .*; use plain printable text$/),
      });
    }
    // Invalid UTF-8 on the wire: a hello whose hostname bytes are not UTF-8.
    const creds = await tc.nodeCredentials('hostile-text');
    const raw = rawClient(tc.address, tlsCredentials(creds.caPem, creds.keyPem, creds.certPem));
    raws.push(raw);
    const s = raw.connect();
    s.call.write(
      protobuf.bytes(
        1,
        Buffer.concat([
          protobuf.bytes(1, 'hostile-text'),
          protobuf.bytes(2, Buffer.from([0x6c, 0x61, 0x62, 0xff, 0xfe])),
        ]),
      ),
    );
    const utf8 = await s.ended;
    expect({ code: fpCode(utf8), details: utf8?.details }).toEqual({
      code: 'FP_INVALID_ARGUMENT',
      details: expect.stringContaining('invalid UTF-8'),
    });

    expect(tc.ctx.store.nodes.get('hostile-text')).toMatchObject({ hostname: 'clean.lab', platform: 'nextseq-2000' });
    const refused = audit('node.connect_refused', 'hostile-text');
    expect(refused).toHaveLength(4);
    expect(refused.map((r) => r.reason).join('\n')).not.toMatch(
      new RegExp(String.raw`[\u0000-\u0008\u001b\u202e\ufffd]`),
    );
    expect(audit('node.connected', 'hostile-text')).toHaveLength(1);
  });

  it('refuses state reports over the bounds whole and audits that once per window; a valid one still goes in', async () => {
    const a = await scripted('hostile-bloat');
    await welcomed(a);
    const report = (accounts: AccountState[]) =>
      a.send({
        message: { $case: 'stateReport', stateReport: { accounts, trigger: 0, requestId: '', complete: false } },
      });
    const manyDetails = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`linux.d${i}`, 'x']));
    report([accountState('ilmnuser', true, { details: manyDetails })]);
    report([accountState('ilmnuser', true, { details: { 'linux.note': 'x'.repeat(300_000) } })]);
    report(Array.from({ length: 1001 }, (_, i) => accountState(`user${i}`, false)));
    report([accountState('ilmnuser', true, { lastFailureSource: 'r'.repeat(10_000) })]);
    report(
      Array.from({ length: 300 }, (_, i) =>
        accountState(`many${i}`, false, { details: { 'linux.note': 'y'.repeat(900) } }),
      ),
    );
    // One stream is read in order: once this valid report is stored, every report before it was handled.
    report([accountState('ilmnadmin', false)]);
    await waitUntil(
      () => tc.ctx.store.accounts.get('hostile-bloat', Backend.BACKEND_LINUX, 'ilmnadmin'),
      5000,
      'the valid report',
    );
    expect(
      listAccountViews(tc.ctx.store, { selection: { nodeIds: ['hostile-bloat'] } }).map((x) => x.account.state.account),
    ).toEqual(['ilmnadmin']);
    const refused = audit('node.report_refused', 'hostile-bloat');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ actor: 'node:hostile-bloat', outcome: 'refused' });
    expect(refused[0].reason).toContain('has 65 details (at most 64)');
    expect(JSON.parse(refused[0].detailsJson)).toMatchObject({ code: 'FP_REPORT_TOO_LARGE' });
    expect(logLines('state report refused')).toHaveLength(1);
  });

  it('keeps account history within accountHistory: a count per account, and an age across the node', async () => {
    await tc.stop();
    removeRoot(tc.root);
    const clock = fakeClock();
    tc = await startTestController({
      log: logs.logger,
      clock,
      config: { accountHistory: { maxPerAccount: 3, maxAgeDays: 1 } },
      deps: { nodeLimits: LIMITS },
    });
    const a = await scripted('hostile-history');
    await welcomed(a);
    const report = (accounts: AccountState[]) =>
      a.send({
        message: { $case: 'stateReport', stateReport: { accounts, trigger: 0, requestId: '', complete: false } },
      });
    const rows = (account: string) =>
      tc.ctx.store.accounts.history('hostile-history', Backend.BACKEND_LINUX, account, 10_000);
    const failures = () =>
      tc.ctx.store.accounts.get('hostile-history', Backend.BACKEND_LINUX, 'flapper')?.state.failureCount;
    // Dated a year ahead by the node: stored as observed now, so the age bound still reaches it.
    report([accountState('gone', true, { observed: new Date(clock.now().getTime() + 365 * 86_400_000) })]);
    for (let i = 1; i <= 10; i++) report([accountState('flapper', i % 2 === 0, { failureCount: i })]);
    await waitUntil(() => failures() === 10, 5000, 'the tenth report');
    expect(rows('flapper').map((r) => r.state.failureCount)).toEqual([10, 9, 8]);
    expect(rows('gone')).toHaveLength(1);

    clock.advance(2 * 86_400_000);
    report([accountState('flapper', true, { failureCount: 11 })]);
    await waitUntil(() => failures() === 11, 5000, 'the report two days later');
    expect(rows('flapper').map((r) => r.state.failureCount)).toEqual([11]);
    expect(rows('gone')).toEqual([]);
  });

  it('refuses a flood of hellos from one node past the limit with FP_RATE_LIMITED, audited once, other nodes unaffected', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const a = await scripted('hostile-reconnects');
      outcomes.push(await outcome(a));
    }
    expect(outcomes).toEqual([
      ...Array(LIMITS.connectsPerWindow).fill('welcome'),
      ...Array(20 - LIMITS.connectsPerWindow).fill('FP_RATE_LIMITED'),
    ]);
    expect(audit('node.rate_limited', 'hostile-reconnects')).toHaveLength(1);
    expect(audit('node.connected', 'hostile-reconnects')).toHaveLength(LIMITS.connectsPerWindow);
    expect(logLines('node rate limited')).toHaveLength(1);
    await stillServes();
  });

  it('cuts off a stream that floods messages, and refuses the node for the rest of the window', async () => {
    const a = await scripted('hostile-chatter');
    await welcomed(a);
    for (let i = 0; i < 500; i++)
      a.send({ message: { $case: 'heartbeat', heartbeat: { sent: new Date(), busy: false } } });
    expect(fpCode(await a.ended())).toBe('FP_RATE_LIMITED');
    const again = await scripted('hostile-chatter');
    expect(fpCode(await again.ended())).toBe('FP_RATE_LIMITED');
    expect(audit('node.rate_limited', 'hostile-chatter')).toHaveLength(1);
    expect(tc.ctx.store.nodes.get('hostile-chatter')?.online).toBe(false);
    await stillServes();
  });

  it('audits a few results for operations the node was never sent, then cuts it off instead of auditing a flood', async () => {
    const other = await scripted('hostile-victim');
    await welcomed(other);
    const sentToOther = (await tc.request({ nodeIds: ['hostile-victim'] })).operations[0].id;
    const a = await scripted('hostile-forger');
    await welcomed(a);
    const forged = (id: string) =>
      ConnectRequest.fromPartial({
        message: { $case: 'result', result: { ...succeed({ id } as never), operationId: id } },
      });
    a.send(forged(sentToOther));
    for (let i = 0; i < 30; i++) a.send(forged(randomUUID()));
    expect(fpCode(await a.ended())).toBe('FP_RATE_LIMITED');
    expect(audit('operation.result_rejected', 'hostile-forger')).toHaveLength(LIMITS.rejectedResultsPerWindow + 1);
    expect(audit('node.rate_limited', 'hostile-forger')).toHaveLength(1);
    expect(tc.ctx.store.operations.getOperation(sentToOther)?.state).not.toBe('failed');
  });

  it('closes connections whose TLS handshake does not finish within tls.handshakeTimeoutSeconds; a real agent still connects', async () => {
    await tc.stop();
    removeRoot(tc.root);
    tc = await startTestController({
      log: logs.logger,
      config: { tls: { handshakeTimeoutSeconds: 1 } },
      deps: { nodeLimits: LIMITS },
    });
    const port = Number(tc.address.slice(tc.address.lastIndexOf(':') + 1));
    // 200 half-open connections: TCP accepted, then not a byte of TLS (or only the start of a ClientHello).
    const sockets = Array.from({ length: 200 }, (_, i) => {
      const s = netConnect({ host: '127.0.0.1', port }, () => {
        if (i % 2) s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
      });
      s.on('error', () => undefined);
      return s;
    });
    const closed = () => sockets.filter((s) => s.destroyed || s.readableEnded).length;
    sockets.forEach((s) => s.on('close', () => s.destroy()));
    // Node's default would keep them for 120 s; with the timeout they are all gone within seconds.
    await waitUntil(() => closed() === sockets.length, 30_000, 'every half-open connection to be closed');
    const a = await scripted('after-half-open');
    expect(await outcome(a)).toBe('welcome');
  });

  it('drops bytes that are not TLS (HTTP/1, an HTTP/2 preface in clear text, zeros) without recording anything', async () => {
    const auditBefore = tc.ctx.audit.count();
    for (const bytes of [
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
      Buffer.alloc(4096),
    ]) {
      const r = await tcpSend(tc.address, bytes);
      expect(r.closed).toBe(true);
      expect(r.reply.toString('latin1')).not.toMatch(/HTTP\/1\.1 200|fleetpass/i);
    }
    expect(tc.ctx.audit.count()).toBe(auditBefore);
    await stillServes();
  });
});
