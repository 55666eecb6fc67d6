/**
 * TEST ONLY: a real controller process for kill/restart tests. It runs the same createController as
 * dist/fleetpass-controller.js, plus an IPC command channel standing in for the admin API (issue 6), so a
 * test can order a wave and read state, then SIGKILL this process in the middle of it.
 * The test bundles it with esbuild (like the real bundle) and runs: node controller-child.js <config.yaml>
 */
import { loadControllerConfig } from '../../../controller/config';
import { createController } from '../../../controller/controller';
import type { CreateChangeRequestInput } from '../../../controller/dispatch';
import { createLogger } from '../../../shared/logger';
import { storeReads } from '../../helpers/store-reads';

export type ChildCommand =
  | { id: number; type: 'request'; input: CreateChangeRequestInput }
  | { id: number; type: 'status'; requestId?: string }
  | { id: number; type: 'verify' };

async function main(): Promise<void> {
  // The agent port is the one under test: the admin API takes any free port, escrow and the console stay off.
  const { config } = loadControllerConfig({
    file: process.argv[2],
    env: {},
    flags: { adminListen: '127.0.0.1:0', web: { enabled: false }, escrow: { enabled: false } },
  });
  const controller = createController(config, { log: createLogger({ level: 'debug', name: 'controller-child' }) });
  const started = await controller.start();
  const service = storeReads(controller.context());
  process.on('SIGTERM', () => void controller.shutdown('SIGTERM').then(() => process.exit(0)));
  process.on('message', (m: ChildCommand) => {
    const reply = (body: unknown) => process.send!({ id: m.id, body });
    const fail = (e: unknown) =>
      process.send!({ id: m.id, error: { code: (e as { code?: string }).code, message: (e as Error).message } });
    try {
      if (m.type === 'request') {
        service.createChangeRequest(m.input).then(
          (r) =>
            reply({
              requestId: r.request.id,
              operations: r.operations.map((o) => ({ id: o.id, nodeId: o.nodeId, state: o.state })),
            }),
          fail,
        );
      } else if (m.type === 'status') {
        reply({
          nodes: service.listNodes().map((n) => ({ id: n.id, online: n.online })),
          operations: m.requestId
            ? service.getChangeRequest(m.requestId).operations.map((o) => ({
                id: o.id,
                nodeId: o.nodeId,
                state: o.state,
                attempts: o.attempts,
                replayed: o.replayed,
              }))
            : [],
        });
      } else if (m.type === 'verify') {
        reply(service.verifyAudit());
      }
    } catch (e) {
      fail(e);
    }
  });
  process.send!({ id: 0, body: { ready: true, address: started.agentAddress } });
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
