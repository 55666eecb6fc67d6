/**
 * TEST ONLY: a lab node for the console's browser test: the shared sandboxed node (test/helpers), checking
 * its accounts every second so a lockout made while the page is open reaches the console on its own, and
 * a local policy that lets fleetpass reset ilmnuser and ilmnadmin.
 */
import { ADMIN_PASSWORD, USER_PASSWORD, createSandboxedNode, type SandboxedNode } from '../../helpers/sandboxed-node';
import type { NodeCredentials } from '../../helpers/controller-harness';

export { ADMIN_PASSWORD, USER_PASSWORD };

export type WebNode = SandboxedNode;

export function createWebNode(
  nodeId: string,
  controllerAddress: string,
  creds: NodeCredentials,
  labels: Record<string, string>,
): Promise<WebNode> {
  const all = ['unlock', 'reset_password', 'refresh_state'];
  return createSandboxedNode(nodeId, controllerAddress, creds, labels, {
    changeCheckSeconds: 1,
    policy: {
      accounts: [
        { backend: 'linux', account: 'ilmnuser', actions: all },
        { backend: 'linux', account: 'ilmnadmin', actions: all },
      ],
    },
  });
}
