/**
 * Every path that writes the data file fails closed with FP_AUDIT_WRITE_FAILED, never FP_INTERNAL, also a
 * write that carries no audit record of its own (a state report) and a node's connect. The controller's
 * own connection is put in SQLite's query_only mode: every write then fails with a real SQLITE_READONLY,
 * at once and on every path, without depending on what SQLite still has cached (as a failing disk does).
 * (test/reliability/read-only-database.test.ts and test/controller/audit-write-failure.test.ts fail the disk.)
 */
import type { ServiceError } from '@grpc/grpc-js';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { accountState, connectScriptedAgent, type ScriptedAgent } from './support/scripted-agent';

let tc: TestController;
const agents: ScriptedAgent[] = [];
const code = (e: ServiceError | undefined) => e?.metadata?.get('fp-error-code');

beforeEach(async () => {
  tc = await startTestController();
});
afterEach(async () => {
  for (const a of agents.splice(0)) a.close();
  tc.ctx.store.db.pragma('query_only = OFF');
  await tc.stop();
  removeRoot(tc.root);
});

async function agent(nodeId: string): Promise<ScriptedAgent> {
  const a = connectScriptedAgent({ address: tc.address, creds: await tc.nodeCredentials(nodeId) });
  agents.push(a);
  return a;
}

describe('the data file refuses writes', () => {
  it('ends the stream of a node whose state report cannot be stored with FP_AUDIT_WRITE_FAILED', async () => {
    const a = await agent('df-report');
    await a.waitFor((m) => m.message?.$case === 'welcome' || undefined);
    tc.ctx.store.db.pragma('query_only = ON');
    a.send({
      message: {
        $case: 'stateReport',
        stateReport: { accounts: [accountState('ilmnuser', true)], trigger: 0, requestId: '', complete: false },
      },
    });
    expect(code(await a.ended())).toEqual(['FP_AUDIT_WRITE_FAILED']);
  });

  it('refuses a connecting node with FP_AUDIT_WRITE_FAILED', async () => {
    tc.ctx.store.db.pragma('query_only = ON');
    const a = await agent('df-hello');
    expect(code(await a.ended())).toEqual(['FP_AUDIT_WRITE_FAILED']);
    expect(a.received.filter((m) => m.message?.$case === 'welcome')).toEqual([]);
  });
});
