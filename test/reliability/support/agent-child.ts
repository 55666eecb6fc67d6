/**
 * TEST ONLY: a real agent process (createAgent, the daemon dist/fleetpass-agent.js runs) over the
 * file backend, so a test can SIGKILL it mid-operation and start it again on the same journal and
 * backend files. Logs JSON lines to stdout. Run (bundled): node agent-child.js '<json {config, backendDir, delayMs}>'.
 */
import { agentConfigSchema } from '../../../agent/config';
import { createAgent } from '../../../agent/daemon';
import { Backend } from '../../../shared/gen/fleetpass/v1/common';
import { createLogger } from '../../../shared/logger';
import { createFileBackend } from './file-backend';

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2]) as { config: unknown; backendDir: string; delayMs: number };
  const config = agentConfigSchema.parse(o.config);
  const agent = createAgent(config, {
    log: createLogger({ level: 'debug', name: 'agent-child' }),
    backends: new Map([[Backend.BACKEND_LINUX, createFileBackend(o.backendDir, o.delayMs)]]),
    busy: async () => false,
  });
  process.on('SIGTERM', () => void agent.shutdown().then(() => process.exit(0)));
  await agent.start();
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
