/** TEST ONLY: factories for agent configs and operations, with overrides. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { TestPkiFiles } from '../../../shared/pki';
import { Action, Backend } from '../../../shared/gen/fleetpass/v1/common';
import type { Operation } from '../../../shared/gen/fleetpass/v1/agent';
import { agentConfigSchema, type AgentConfig } from '../../../agent/config';

export function tempDir(prefix = 'fp-agent-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A validated agent config for node `nodeId` pointing at `address`, fast timers, ilmnuser+ilmnadmin in policy. */
export function testAgentConfig(
  pki: TestPkiFiles,
  nodeId: string,
  address: string,
  overrides: Record<string, unknown> = {},
): AgentConfig {
  const base = {
    controller: {
      address,
      caFile: pki.caFile,
      certFile: pki.nodes[nodeId].certFile,
      keyFile: pki.nodes[nodeId].keyFile,
    },
    stateDir: tempDir('fp-agent-state-'),
    hostname: `${nodeId}.lab.test`,
    platform: 'nextseq-2000',
    labels: { site: 'lab-a' },
    reconnect: { initialMs: 50, maxMs: 200 },
    changeCheckSeconds: 0,
    policy: {
      accounts: [
        { backend: 'linux', account: 'ilmnuser', actions: ['unlock', 'reset_password', 'refresh_state'] },
        { backend: 'linux', account: 'ilmnadmin', actions: ['refresh_state'] },
      ],
    },
  };
  return agentConfigSchema.parse(merge(base, overrides));
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      cur && typeof cur === 'object' && !Array.isArray(cur) && v && typeof v === 'object' && !Array.isArray(v)
        ? merge(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** An operation on linux/ilmnuser expiring in 10 minutes; override anything. */
export function testOperation(overrides: Partial<Operation> = {}): Operation {
  return {
    id: randomUUID(),
    backend: Backend.BACKEND_LINUX,
    account: 'ilmnuser',
    action: Action.ACTION_UNLOCK,
    newSecret: '',
    expires: new Date(Date.now() + 600_000),
    requestedBy: 'alice',
    approvedBy: 'bob',
    reason: 'INC-1',
    created: new Date(),
    requireIdle: false,
    temporary: false,
    ...overrides,
  };
}
