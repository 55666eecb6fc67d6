/**
 * BENCHMARK ONLY: the fleet simulator, parent side. Spreads N simulated nodes over a few worker
 * processes (fleet-worker.ts: real agents, in-memory backend, own certificate each), starts them,
 * sums their stats, and stops them.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { forkChild, type Child } from '../lib/ipc';
import { bundle, shmScratch } from '../lib/paths';
import type { FleetWorkerStats } from './fleet-worker';

export interface FleetOptions {
  controllerAddress: string;
  nodes: number;
  workers: number;
  account?: string;
  reconnect?: { initialMs: number; maxMs: number };
  rampConcurrency?: number;
  /** Log file for the workers' output. */
  logFile: string;
}

export interface Fleet {
  readonly size: number;
  /** Connect every node (ramped); resolves with the time it took. */
  start(): Promise<{ ms: number }>;
  stats(): Promise<FleetWorkerStats>;
  /** Locks the account on every node again. */
  relock(): Promise<void>;
  /** Waits until `pred(stats)` holds, polling. */
  waitFor(pred: (s: FleetWorkerStats) => boolean, timeoutMs: number, what: string): Promise<FleetWorkerStats>;
  /** The worker processes' pids (to read their CPU time). */
  pids(): number[];
  stop(): Promise<void>;
}

/** Forks the workers (nothing connects until start()). */
export async function createFleet(o: FleetOptions): Promise<Fleet> {
  const workers: Child[] = [];
  const stateRoot = shmScratch('fleet');
  const per = Math.ceil(o.nodes / o.workers);
  const ranges: Array<{ first: number; count: number }> = [];
  for (let first = 1; first <= o.nodes; first += per) ranges.push({ first, count: Math.min(per, o.nodes - first + 1) });
  for (let w = 0; w < ranges.length; w++) workers.push(await forkChild(bundle('fleet-worker'), { logFile: o.logFile }));

  async function stats(): Promise<FleetWorkerStats> {
    const all = await Promise.all(workers.map((w) => w.call<FleetWorkerStats>('stats')));
    const sum: FleetWorkerStats = {
      total: 0,
      connected: 0,
      states: {},
      calls: { inspect: 0, unlock: 0, resetPassword: 0 },
      unlockPerNode: { min: Infinity, max: 0 },
      rssBytes: 0,
    };
    for (const s of all) {
      sum.total += s.total;
      sum.connected += s.connected;
      for (const [k, v] of Object.entries(s.states)) sum.states[k] = (sum.states[k] ?? 0) + v;
      sum.calls.inspect += s.calls.inspect;
      sum.calls.unlock += s.calls.unlock;
      sum.calls.resetPassword += s.calls.resetPassword;
      sum.unlockPerNode.min = Math.min(sum.unlockPerNode.min, s.unlockPerNode.min);
      sum.unlockPerNode.max = Math.max(sum.unlockPerNode.max, s.unlockPerNode.max);
      sum.rssBytes += s.rssBytes;
    }
    return sum;
  }

  return {
    size: o.nodes,
    async start() {
      const t0 = Date.now();
      await Promise.all(
        workers.map((w, i) =>
          w.call(
            'start',
            {
              controllerAddress: o.controllerAddress,
              ...ranges[i],
              stateRoot: join(stateRoot, `w${i}`),
              account: o.account ?? 'ilmnuser',
              reconnect: o.reconnect ?? { initialMs: 1000, maxMs: 60_000 },
              rampConcurrency: o.rampConcurrency ?? 16,
            },
            900_000,
          ),
        ),
      );
      return { ms: Date.now() - t0 };
    },
    stats,
    async relock() {
      await Promise.all(workers.map((w) => w.call('relock')));
    },
    async waitFor(pred, timeoutMs, what) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const s = await stats();
        if (pred(s)) return s;
        if (Date.now() > end)
          throw new Error(
            `timed out waiting for ${what}: ${JSON.stringify({ connected: s.connected, states: s.states })}`,
          );
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    pids: () => workers.map((w) => w.proc.pid!),
    async stop() {
      await Promise.all(workers.map((w) => w.call('stop', {}, 120_000).catch(() => undefined)));
      for (const w of workers) w.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      rmSync(stateRoot, { recursive: true, force: true });
    },
  };
}
