/**
 * BENCHMARK ONLY: one fleet-simulator process. It runs many simulated nodes, each a REAL agent
 * (agent/daemon createAgent → agent/connection: its own mTLS channel with its own node certificate,
 * hello, journal, reports, heartbeats, jittered reconnect backoff) over the benchmark in-memory backend.
 * Driven over IPC by bench/fleet/fleet.ts: start, stats, stop.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { agentConfigSchema } from '../../agent/config';
import { createAgent, type Agent } from '../../agent/daemon';
import { Backend } from '../../shared/gen/fleetpass/v1/common';
import { createLogger } from '../../shared/logger';
import { serveIpc } from '../lib/ipc';
import { benchPki, nodeCertificates, nodeId } from '../lib/pki-cache';
import { createBenchMemoryBackend, type BenchMemoryBackend } from './bench-memory-backend';

export interface FleetWorkerStart {
  controllerAddress: string;
  /** Node numbers [first, first + count). */
  first: number;
  count: number;
  /** Folder for the nodes' journals (tmpfs). */
  stateRoot: string;
  account: string;
  reconnect: { initialMs: number; maxMs: number };
  /** Nodes opening their first connection at once (a ramp, not a storm). */
  rampConcurrency: number;
  logLevel?: string;
}

export interface FleetWorkerStats {
  total: number;
  connected: number;
  states: Record<string, number>;
  calls: { inspect: number; unlock: number; resetPassword: number };
  /** Fewest and most unlocks applied on one node. */
  unlockPerNode: { min: number; max: number };
  rssBytes: number;
}

interface SimNode {
  id: string;
  agent: Agent;
  backend: BenchMemoryBackend;
}

const nodes: SimNode[] = [];
const log = createLogger({ level: process.env.FLEETPASS_LOG_LEVEL ?? 'warn', name: 'fleet-worker' });
let account = 'ilmnuser';

async function start(o: FleetWorkerStart): Promise<{ started: number; ms: number }> {
  const t0 = Date.now();
  account = o.account;
  const pki = await benchPki();
  const ids = Array.from({ length: o.count }, (_, i) => nodeId(o.first + i));
  const files = await nodeCertificates(pki, ids);
  const rootLog = log.child({ worker: o.first });
  for (const f of files) {
    const stateDir = join(o.stateRoot, f.nodeId);
    mkdirSync(stateDir, { recursive: true });
    const config = agentConfigSchema.parse({
      controller: { address: o.controllerAddress, caFile: pki.caFile, certFile: f.certFile, keyFile: f.keyFile },
      stateDir,
      hostname: f.nodeId,
      platform: 'bench-simulated',
      labels: { bench: 'fleet' },
      reconnect: o.reconnect,
      policy: { accounts: [{ backend: 'linux', account: o.account, actions: ['unlock', 'reset_password'] }] },
    });
    const backend = createBenchMemoryBackend({ accounts: [o.account], locked: true });
    const agent = createAgent(config, {
      log: rootLog.child({ nodeId: f.nodeId }),
      backends: new Map([[Backend.BACKEND_LINUX, backend]]),
      busy: async () => false,
    });
    nodes.push({ id: f.nodeId, agent, backend });
  }
  // Ramp: at most rampConcurrency nodes between "start" and "connected" at once.
  let next = 0;
  async function lane(): Promise<void> {
    while (next < nodes.length) {
      const n = nodes[next++];
      await n.agent.start();
      const end = Date.now() + 30_000;
      while (n.agent.state !== 'connected' && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, o.rampConcurrency) }, lane));
  return { started: nodes.length, ms: Date.now() - t0 };
}

function stats(): FleetWorkerStats {
  const states: Record<string, number> = {};
  const calls = { inspect: 0, unlock: 0, resetPassword: 0 };
  let min = Infinity;
  let max = 0;
  for (const n of nodes) {
    states[n.agent.state] = (states[n.agent.state] ?? 0) + 1;
    calls.inspect += n.backend.calls.inspect;
    calls.unlock += n.backend.calls.unlock;
    calls.resetPassword += n.backend.calls.resetPassword;
    min = Math.min(min, n.backend.calls.unlock);
    max = Math.max(max, n.backend.calls.unlock);
  }
  return {
    total: nodes.length,
    connected: states.connected ?? 0,
    states,
    calls,
    unlockPerNode: { min: nodes.length ? min : 0, max },
    rssBytes: process.memoryUsage().rss,
  };
}

async function stop(): Promise<{ stopped: number }> {
  await Promise.all(nodes.map((n) => n.agent.shutdown()));
  return { stopped: nodes.length };
}

serveIpc({
  start: (b) => start(b as unknown as FleetWorkerStart),
  stats,
  relock: () => {
    for (const n of nodes) n.backend.lock(account);
    return { nodes: nodes.length };
  },
  stop,
});
