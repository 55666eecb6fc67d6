/**
 * BENCHMARK ONLY: one agent at rest, in its own process: the agent daemon (createAgent, the code
 * dist/fleetpass-agent.js runs) with its default timings (heartbeat, change checks, keepalive), one
 * managed account on the benchmark in-memory backend instead of the Linux backend (which would read
 * the host's account files), logging at info to stdout (a file). Run: node agent-child.js '<json>'.
 */
import { agentConfigSchema } from '../../agent/config';
import { createAgent } from '../../agent/daemon';
import { Backend } from '../../shared/gen/fleetpass/v1/common';
import { createLogger } from '../../shared/logger';
import { createBenchMemoryBackend } from '../fleet/bench-memory-backend';
import { serveIpc } from '../lib/ipc';

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2]) as {
    controllerAddress: string;
    caFile: string;
    certFile: string;
    keyFile: string;
    stateDir: string;
  };
  const config = agentConfigSchema.parse({
    controller: { address: o.controllerAddress, caFile: o.caFile, certFile: o.certFile, keyFile: o.keyFile },
    stateDir: o.stateDir,
    hostname: 'bench-rest',
    platform: 'bench-simulated',
    policy: { accounts: [{ backend: 'linux', account: 'ilmnuser', actions: ['unlock', 'reset_password'] }] },
  });
  const backend = createBenchMemoryBackend({ accounts: ['ilmnuser'], locked: true });
  const agent = createAgent(config, {
    log: createLogger({ level: 'info', name: 'fleetpass-agent' }),
    backends: new Map([[Backend.BACKEND_LINUX, backend]]),
  });
  await agent.start();
  process.on('SIGTERM', () => void agent.shutdown().then(() => process.exit(0)));
  serveIpc(
    { state: () => ({ state: agent.state, calls: backend.calls }), cpu: () => process.cpuUsage() },
    { pid: process.pid },
  );
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
