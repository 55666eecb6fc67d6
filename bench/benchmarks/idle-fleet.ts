/**
 * Benchmark 3: N idle connected nodes.
 * Memory: the controller process's RSS and V8 heap after GC with no node, then with N nodes connected
 * and settled (hello recorded, state reported), divided by N; against a bare grpc-js server process
 * measured the same way with N mTLS bidirectional streams from the same client layout.
 * Reconnect storm: the controller is stopped (SIGTERM) and started again on the same port and data
 * file; every agent comes back on its own jittered backoff. Timed from the new controller listening
 * until all N are connected again; "no overload" is checked as no refused stream, exactly one
 * node.connected record per node, the controller still up, and its event-loop delay reported.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startBareFleet } from '../baseline/bare-fleet';
import { createFleet } from '../fleet/fleet';
import { startBenchController, type BenchController } from '../lib/bench-controller';
import type { ControllerStatus } from '../lib/controller-main';
import { messageSizes } from '../lib/message-sizes';
import { diskScratch } from '../lib/paths';
import { benchPki } from '../lib/pki-cache';
import type { BenchResult } from '../lib/report';

export interface IdleOptions {
  nodes: number;
  workers: number;
  full: boolean;
  logDir: string;
}

async function waitSessions(c: BenchController, n: number, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const s = await c.call<ControllerStatus>('status');
    if (s.sessions >= n) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`only ${s.sessions} of ${n} nodes connected after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const KB = 1024;

/** Runs the idle-fleet benchmark and its baseline; resolves with the figures. */
export async function idleFleetBenchmark(o: IdleOptions): Promise<BenchResult> {
  const started = Date.now();
  const pki = await benchPki();
  const sizes = await messageSizes();
  const stateDir = diskScratch('idle');
  const log = (name: string) => join(o.logDir, `idle-${name}.log`);
  const settings = {
    stateDir,
    pkiDir: pki.dir,
    agentListen: '127.0.0.1:0',
    adminListen: '127.0.0.1:0',
    logLevel: 'info',
  };
  let controller = await startBenchController(settings, log('controller'));
  const checks: Record<string, unknown> = {};
  let fleetMem: { rss: number; heap: number };
  let storm: { fromListeningMs: number; fromStopMs: number; downMs: number; lag: { maxMs: number; p99Ms: number } };
  const fleet = await createFleet({
    controllerAddress: controller.agentAddress,
    nodes: o.nodes,
    workers: o.workers,
    logFile: log('fleet'),
  });
  try {
    const before = await controller.call<NodeJS.MemoryUsage>('gc');
    const connect = await fleet.start();
    checks.connectAllMs = connect.ms;
    await waitSessions(controller, o.nodes, 300_000);
    // Let hellos, state reports and the first liveness flush settle, then measure after GC.
    await new Promise((r) => setTimeout(r, 5000));
    const after = await controller.call<NodeJS.MemoryUsage>('gc');
    fleetMem = {
      rss: (after.rss - before.rss) / o.nodes,
      heap: (after.heapUsed + after.external - before.heapUsed - before.external) / o.nodes,
    };
    checks.controllerMemory = { before, after };

    // Reconnect storm.
    const port = controller.agentAddress.slice(controller.agentAddress.lastIndexOf(':') + 1);
    const auditBefore = (await controller.call<ControllerStatus>('status')).audit;
    const tStop = Date.now();
    await controller.stop();
    const tDown = Date.now();
    controller = await startBenchController(
      { ...settings, agentListen: `127.0.0.1:${port}` },
      log('controller-restarted'),
    );
    const tUp = Date.now();
    await waitSessions(controller, o.nodes, 120_000);
    const tAll = Date.now();
    const lag = await controller.call<{ maxMs: number; p99Ms: number }>('lag');
    storm = { fromListeningMs: tAll - tUp, fromStopMs: tAll - tStop, downMs: tUp - tDown, lag };
    // Settle, then check nobody connected twice and nothing was refused.
    await new Promise((r) => setTimeout(r, 3000));
    const connected = (
      await controller.call<{ count: number }>('countAudit', { action: 'node.connected', afterSeq: auditBefore })
    ).count;
    const refused = (
      await controller.call<{ count: number }>('countAudit', { action: 'node.connect_refused', afterSeq: auditBefore })
    ).count;
    const stats = await fleet.stats();
    const status = await controller.call<ControllerStatus>('status');
    // A node that connected more than once after the restart lost a stream during the storm (a keepalive
    // went unanswered, or the stream was refused): counted, and the goal is not met, but the run goes on.
    checks.storm = {
      nodeConnectedRecords: connected,
      reconnectedMoreThanOnce: connected - o.nodes,
      refused,
      sessions: status.sessions,
      agentsConnected: stats.connected,
      controllerAlive: controller.proc.exitCode === null,
    };
    checks.auditChain = await controller.call('verify');
  } finally {
    await fleet.stop();
    await controller.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }

  // Baseline: the same number of streams on a bare grpc-js server.
  const bare = await startBareFleet({
    pkiDir: pki.dir,
    nodes: o.nodes,
    workers: o.workers,
    sizes: { hello: sizes.hello, welcome: sizes.welcome, result: sizes.result },
    logFile: log('bare'),
  });
  let bareMem: { rss: number; heap: number };
  try {
    await bare.connect();
    const streams = await bare.streams();
    if (streams !== o.nodes) throw new Error(`bare baseline: ${streams} of ${o.nodes} streams open`);
    await new Promise((r) => setTimeout(r, 5000));
    const after = await bare.server.call<NodeJS.MemoryUsage>('gc');
    const before = bare.memoryBefore;
    bareMem = {
      rss: (after.rss - before.rss) / o.nodes,
      heap: (after.heapUsed + after.external - before.heapUsed - before.external) / o.nodes,
    };
    checks.bareMemory = { before, after };
  } finally {
    await bare.stop();
  }

  const st = checks.storm as {
    reconnectedMoreThanOnce: number;
    refused: number;
    controllerAlive: boolean;
    agentsConnected: number;
  };
  const flaps = st.reconnectedMoreThanOnce;
  const refusedCount = st.refused;
  const stormClean = flaps === 0 && refusedCount === 0 && st.controllerAlive && st.agentsConnected === o.nodes;
  const rssRatio = fleetMem.rss / bareMem.rss;
  const heapRatio = fleetMem.heap / bareMem.heap;
  const sizeNote = o.full ? '' : ' (default size; --full runs 10,000)';
  return {
    name: 'idle',
    title: 'Idle connected nodes',
    size: `${o.nodes.toLocaleString('en-US')} nodes${sizeNote}, ${o.workers} simulator processes`,
    seconds: (Date.now() - started) / 1000,
    figures: [
      {
        metric: 'controller RSS per node',
        value: fleetMem.rss / KB,
        unit: 'KB',
        baseline: { label: 'bare grpc-js server RSS per stream', value: bareMem.rss / KB },
        ratio: rssRatio,
        goal: '≤ 1.2x of bare',
        met: rssRatio <= 1.2,
        note: `issue goal < 20 KB per node: ${fleetMem.rss < 20 * KB ? 'met' : 'not met'}`,
      },
      {
        metric: 'controller V8 heap + external per node',
        value: fleetMem.heap / KB,
        unit: 'KB',
        baseline: { label: 'bare grpc-js server per stream', value: bareMem.heap / KB },
        ratio: heapRatio,
        goal: '≤ 1.2x of bare',
        met: heapRatio <= 1.2,
      },
      {
        metric: 'reconnect storm: all back after restart',
        value: storm.fromListeningMs / 1000,
        unit: 's',
        goal: '< 60 s, no crash, no overload',
        met: storm.fromListeningMs < 60_000 && stormClean,
        note:
          `${(storm.fromStopMs / 1000).toFixed(1)} s from SIGTERM; ${flaps} streams lost and re-opened during the storm; ${refusedCount} refused; ` +
          `controller event-loop delay max ${storm.lag.maxMs.toFixed(0)} ms, p99 ${storm.lag.p99Ms.toFixed(0)} ms`,
      },
    ],
    checks: { ...checks, storm: { ...(checks.storm as object), ...storm } },
  };
}
