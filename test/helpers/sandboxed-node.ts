/**
 * TEST ONLY: one simulated-free lab node for end-to-end tests (controller, operator CLI, escrow, web
 * console): a PAM sandbox (real users, real pam_faillock, private mount namespace) with the REAL agent
 * bundle running inside it, the Linux backend on, and a client certificate issued by the controller's own CA.
 */
import { join } from 'node:path';
import { createPamSandbox, type PamSandbox } from '../../shared/pam-sandbox';
import { createAgentHarness, type AgentHarness, type SpawnedAgent } from './agent-harness';
import type { NodeCredentials } from './controller-harness';

export const USER_PASSWORD = 'Ilmn-user-pw-1';
export const ADMIN_PASSWORD = 'Ilmn-admin-pw-1';

export interface SandboxedNode {
  nodeId: string;
  sandbox: PamSandbox;
  harness: AgentHarness;
  configFile: string;
  agent?: SpawnedAgent;
  /** Spawns (or respawns) the agent inside the sandbox. */
  start(): SpawnedAgent;
  destroy(): Promise<void>;
}

/**
 * A sandbox with ilmnuser and ilmnadmin, and an agent config pointing at `controllerAddress`; `overrides`
 * replace top-level agent config keys (e.g. `busyCheck`, `policy`).
 */
export async function createSandboxedNode(
  nodeId: string,
  controllerAddress: string,
  creds: NodeCredentials,
  labels: Record<string, string> = {},
  overrides: Record<string, unknown> = {},
): Promise<SandboxedNode> {
  const sandbox = await createPamSandbox({
    users: [
      { name: 'ilmnuser', password: USER_PASSWORD },
      { name: 'ilmnadmin', password: ADMIN_PASSWORD },
    ],
    deny: 3,
    unlockTime: 600,
  });
  const harness = await createAgentHarness({ nodeId, controllerAddress });
  const configFile = harness.writeConfig({
    platform: 'nextseq-2000',
    hostname: `${nodeId}.lab`,
    labels,
    stateDir: join(harness.dir, 'state'),
    changeCheckSeconds: 0,
    controller: { address: controllerAddress, caFile: creds.caFile, certFile: creds.certFile, keyFile: creds.keyFile },
    backends: { linux: { pamServices: [sandbox.service] } },
    policy: {
      accounts: [
        { backend: 'linux', account: 'ilmnuser', actions: ['unlock', 'reset_password', 'refresh_state'] },
        { backend: 'linux', account: 'ilmnadmin', actions: ['refresh_state'] },
      ],
    },
    ...overrides,
  });
  const node: SandboxedNode = {
    nodeId,
    sandbox,
    harness,
    configFile,
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

/** How many times the agent log says it applied `operationId` (a replay from the journal does not count). */
export function applications(agent: SpawnedAgent, operationId: string): number {
  return agent
    .logs()
    .filter((l) => l.operationId === operationId && (l.msg === 'operation succeeded' || l.msg === 'operation failed'))
    .length;
}
