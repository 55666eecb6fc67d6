/**
 * Liveness and fairness: HTTP/2 keepalive drops a node whose network went silent within keepalive time +
 * timeout, and a wave is not held up by one slow node whose stream pushes back (its messages wait in its
 * own queue while every other node gets and answers its operation, and the event loop stays responsive).
 */
import { Action } from '../../shared/gen/fleetpass/v1/common';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { startBlackholeProxy, type BlackholeProxy } from './support/blackhole-proxy';
import { connectScriptedAgent, type ScriptedAgent } from './support/scripted-agent';
import { storeReads } from '../helpers/store-reads';
import { waitUntil } from '../helpers/wait-until';

let tc: TestController | undefined;
let proxy: BlackholeProxy | undefined;
const agents: ScriptedAgent[] = [];

afterEach(async () => {
  for (const a of agents.splice(0)) a.close();
  await proxy?.close();
  proxy = undefined;
  if (tc) {
    await tc.stop();
    removeRoot(tc.root);
    tc = undefined;
  }
});

describe('liveness', () => {
  it('notices a node whose network went silent within keepalive time + timeout', async () => {
    tc = await startTestController({ config: { keepalive: { timeSeconds: 1, timeoutSeconds: 1 } } });
    proxy = await startBlackholeProxy(tc.address);
    const a = connectScriptedAgent({ address: proxy.address, creds: await tc.nodeCredentials('ka-1') });
    agents.push(a);
    await a.waitFor((m) => m.message?.$case === 'welcome' || undefined);
    expect(tc.ctx.store.nodes.get('ka-1')?.online).toBe(true);
    const silentAt = Date.now();
    proxy.blackhole();
    await waitUntil(() => tc!.ctx.store.nodes.get('ka-1')?.online === false, 8000, 'the node to be dropped');
    const took = Date.now() - silentAt;
    expect(took).toBeLessThan(4500); // ping within ~1 s, no answer within 1 s more, plus scheduling slack
    expect(tc.ctx.sessions.size()).toBe(0);
    expect(tc.ctx.audit.query({ filter: { action: 'node.disconnected', nodeId: 'ka-1' } }).records).toHaveLength(1);
  });

  it('lets a wave finish on every other node while one slow node pushes back', async () => {
    tc = await startTestController();
    const ids = Array.from({ length: 30 }, (_, i) => `wave-${String(i).padStart(2, '0')}`);
    for (const id of ids) {
      const a = connectScriptedAgent({ address: tc.address, creds: await tc.nodeCredentials(id) });
      agents.push(a);
    }
    await Promise.all(agents.map((a) => a.waitFor((m) => m.message?.$case === 'welcome' || undefined)));
    const slow = agents[7];
    slow.pause();
    const slowSession = tc.ctx.sessions.get('wave-07')!;
    // Fill the slow node's flow-control window and its queue with refresh requests it does not read.
    for (let i = 0; i < 3000 && slowSession.queued() === 0; i++) {
      slowSession.send({
        message: { $case: 'refresh', refresh: { requestId: `fill-${i}-${'x'.repeat(200)}`, accounts: [] } },
      });
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5));
    }
    expect(slowSession.queued()).toBeGreaterThan(0);

    let worstLagMs = 0;
    let last = Date.now();
    const probe = setInterval(() => {
      const now = Date.now();
      worstLagMs = Math.max(worstLagMs, now - last - 5);
      last = now;
    }, 5);
    // A reset, so the test also shows a queued operation keeps its password until it is written.
    const { request } = await tc.request({
      action: Action.ACTION_RESET_PASSWORD,
      targets: ids.map((nodeId) => ({ nodeId, secret: `Wave-pw-${nodeId}` })),
    });
    const service = storeReads(tc.ctx);
    await waitUntil(() => (service.getChangeRequest(request.id).counts.succeeded ?? 0) === 29, 10_000, '29 results');
    clearInterval(probe);
    const slowOp = service.getChangeRequest(request.id).operations.find((o) => o.nodeId === 'wave-07')!;
    // Recorded as sent, and still unread by the paused node: it waits in the node's queue or in the transport's
    // buffers (Node 24's HTTP/2 windows take more than Node 20's, so which of the two is not the point).
    expect(slowOp.state).toBe('dispatched');
    expect(slow.operations()).toEqual([]);
    // The event loop kept turning while a node's queue was full: a few ms when idle, so 1 s allows for a
    // loaded 2-core CI, while a send that blocked until the slow node read would stall for the whole wave.
    expect(worstLagMs).toBeLessThan(1000);

    slow.resume();
    await waitUntil(
      () => service.getChangeRequest(request.id).request.state === 'done',
      10_000,
      'the slow node to catch up',
    );
    expect(service.getChangeRequest(request.id).counts).toEqual({ succeeded: 30 });
    expect(slow.operations().map((o) => o.newSecret)).toEqual(['Wave-pw-wave-07']);
    expect(agents[3].operations().map((o) => o.newSecret)).toEqual(['Wave-pw-wave-03']);
  });
});
