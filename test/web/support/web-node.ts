/**
 * TEST ONLY: a lab node for the console's browser test: a PAM sandbox (real users, real pam_faillock) with
 * the REAL agent bundle inside, checking its accounts every second so a lockout made while the page is
 * open reaches the console on its own, and a local policy that lets fleetpass reset ilmnuser and
 * ilmnadmin.
 */
import { join } from 'node:path';
import { createPamSandbox, type PamSandbox } from '../../../shared/pam-sandbox';
import { createAgentHarness, type AgentHarness, type SpawnedAgent } from '../../helpers/agent-harness';
import type { NodeCredentials } from '../../helpers/controller-harness';

export const USER_PASSWORD = 'Ilmn-user-pw-1';
export const ADMIN_PASSWORD = 'Ilmn-admin-pw-1';

export interface WebNode {
  nodeId: string;
  sandbox: PamSandbox;
  harness: AgentHarness;
  agent?: SpawnedAgent;
  start(): SpawnedAgent;
  destroy(): Promise<void>;
}

export async function createWebNode(nodeId: string, controllerAddress: string, creds: NodeCredentials, labels: Record<string, string>): Promise<WebNode> {
  const sandbox = await createPamSandbox({ users: [{ name: 'ilmnuser', password: USER_PASSWORD }, { name: 'ilmnadmin', password: ADMIN_PASSWORD }], deny: 3, unlockTime: 600 });
  const harness = await createAgentHarness({ nodeId, controllerAddress });
  const configFile = harness.writeConfig({
    platform: 'nextseq-2000',
    hostname: `${nodeId}.lab`,
    labels,
    stateDir: join(harness.dir, 'state'),
    changeCheckSeconds: 1,
    controller: { address: controllerAddress, caFile: creds.caFile, certFile: creds.certFile, keyFile: creds.keyFile },
    backends: { linux: { pamServices: [sandbox.service] } },
    policy: {
      accounts: [
        { backend: 'linux', account: 'ilmnuser', actions: ['unlock', 'reset_password', 'refresh_state'] },
        { backend: 'linux', account: 'ilmnadmin', actions: ['unlock', 'reset_password', 'refresh_state'] },
      ],
    },
  });
  const node: WebNode = {
    nodeId,
    sandbox,
    harness,
    start() {
      node.agent = harness.spawnRun(configFile, { spawner: (argv, o) => sandbox.spawn(argv, o) });
      return node.agent;
    },
    async destroy() {
      node.agent?.kill();
      await node.agent?.waitForExit().catch(() => undefined);
      await sandbox.destroy();
      await harness.cleanup();
    },
  };
  return node;
}
