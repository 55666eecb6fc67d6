/**
 * The agent daemon against the REAL controller (in-process, 127.0.0.1, its own CA, SQLite), with the
 * TEST-ONLY memory backend: the wire contract both sides implement, end to end — hello and reports
 * become the fleet inventory, an unlock request reaches the node once and its result settles the request,
 * and an operation ordered while the node is away is delivered and applied once after it comes back.
 */
import { Backend } from '../../shared/gen/fleetpass/v1/common';
import { createAgent, type Agent } from '../../agent/daemon';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { createTestMemoryBackend, type TestMemoryBackend } from '../helpers/test-memory-backend';
import { captureLog } from './helpers/log-capture';
import { tempDir } from './helpers/agent-fixtures';
import { agentConfigSchema, type AgentConfig } from '../../agent/config';
import { waitUntil } from '../helpers/wait-until';
import { storeReads } from '../helpers/store-reads';

const NODE = 'nextseq-ctl-1';
let tc: TestController;
const agents: Agent[] = [];

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.shutdown()));
  await tc?.stop();
  removeRoot(tc.root);
});

async function agentConfig(stateDir = tempDir('fp-agent-state-')): Promise<AgentConfig> {
  const creds = await tc.nodeCredentials(NODE);
  return agentConfigSchema.parse({
    controller: { address: tc.address, caFile: creds.caFile, certFile: creds.certFile, keyFile: creds.keyFile },
    stateDir,
    hostname: 'nextseq-ctl-1.lab',
    platform: 'nextseq-2000',
    reconnect: { initialMs: 50, maxMs: 200 },
    changeCheckSeconds: 0,
    policy: { accounts: [{ backend: 'linux', account: 'ilmnuser', actions: ['unlock', 'refresh_state'] }] },
  });
}

function startAgent(config: AgentConfig, backend: TestMemoryBackend): Agent {
  const agent = createAgent(config, {
    log: captureLog('warn').log,
    backends: new Map([[Backend.BACKEND_LINUX, backend]]),
    busy: async () => false,
  });
  agents.push(agent);
  return agent;
}

describe('agent and controller together', () => {
  it('joins the inventory, and an unlock request is applied once and settles', async () => {
    tc = await startTestController();
    const service = storeReads(tc.ctx);
    const backend = createTestMemoryBackend({ accounts: { ilmnuser: {} } });
    backend.failLogins('ilmnuser', 5, 'rhost=10.9.9.9');
    const agent = startAgent(await agentConfig(), backend);
    await agent.start();

    await waitUntil(
      () => service.getNode(NODE)?.online && service.listAccounts({ lockedOnly: true }).length === 1,
      5000,
      'the node and its locked account',
    );
    expect(service.getNode(NODE)).toMatchObject({ online: true, hostname: 'nextseq-ctl-1.lab' });
    await waitUntil(() => agent.state === 'connected', 5000, 'the agent to connect');

    const { request } = await tc.request({ nodeIds: [NODE] });
    await waitUntil(() => service.getChangeRequest(request.id).request.state === 'done', 5000, 'the request to settle');
    const view = service.getChangeRequest(request.id);
    expect(view.operations[0]).toMatchObject({ nodeId: NODE, state: 'succeeded' });
    expect(view.operations[0].after?.locked).toBe(false);
    expect(backend.calls.unlock).toBe(1);
    await waitUntil(
      () => service.listAccounts({ lockedOnly: true }).length === 0,
      5000,
      'the inventory to show it unlocked',
    );
  });

  it('receives an operation ordered while it was away once it reconnects, and applies it once', async () => {
    tc = await startTestController();
    const service = storeReads(tc.ctx);
    const config = await agentConfig();
    const backend = createTestMemoryBackend({ accounts: { ilmnuser: {} } });
    const first = startAgent(config, backend);
    await first.start();
    await waitUntil(() => service.getNode(NODE)?.online, 5000, 'online');
    await first.shutdown();
    await waitUntil(() => service.getNode(NODE)?.online === false, 5000, 'offline');

    backend.failLogins('ilmnuser', 5);
    const { request } = await tc.request({ nodeIds: [NODE] });
    const second = startAgent(config, backend);
    await second.start();
    await waitUntil(() => service.getChangeRequest(request.id).request.state === 'done', 5000, 'the request to settle');
    expect(service.getChangeRequest(request.id).operations[0].state).toBe('succeeded');
    expect(backend.calls.unlock).toBe(1);
  });
});
