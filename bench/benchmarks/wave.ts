/**
 * Benchmark 1: an unlock wave across N simulated nodes through the real admin API (gRPC AdminService,
 * an operator's API token), fully audited. Time from the RequestOperations call to the Watch stream's
 * "done" (every operation's result recorded and audited). Dispatch cost per node = wave time / N,
 * compared with the bare baseline in the same run: the same N mTLS streams from the same number of
 * processes, one message out to every stream and one answer back, timed until the last answer.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import {
  PasswordSource,
  RequestOperationsRequest,
  type WatchChangeRequestResponse,
} from '../../shared/gen/fleetpass/v1/admin';
import { createAdminApi } from '../../controller/cli/admin-client';
import { cliConfigSchema } from '../../controller/cli/cli-config';
import { startBareFleet } from '../baseline/bare-fleet';
import { createFleet } from '../fleet/fleet';
import { startBenchController } from '../lib/bench-controller';
import { messageSizes } from '../lib/message-sizes';
import { diskScratch, shmScratch } from '../lib/paths';
import { benchPki } from '../lib/pki-cache';
import type { BenchResult } from '../lib/report';
import { cpuSeconds } from '../lib/proc-stats';
import { median } from '../lib/stats';

export interface WaveOptions {
  nodes: number;
  workers: number;
  waves: number;
  logDir: string;
  /** Diagnostic only: the controller's data file on tmpfs, where fsync costs nothing, to show how much of the wave is disk. */
  dataOnTmpfs?: boolean;
}

interface WaveRun {
  ms: number;
  requestMs: number;
  succeeded: number;
}

/** Runs the wave benchmark and its baseline; resolves with the figures. */
export async function waveBenchmark(o: WaveOptions): Promise<BenchResult> {
  const started = Date.now();
  const pki = await benchPki();
  const sizes = await messageSizes();
  const stateDir = o.dataOnTmpfs ? shmScratch('wave-data') : diskScratch('wave');
  const log = (name: string) => join(o.logDir, `wave-${name}.log`);
  const controller = await startBenchController(
    { stateDir, pkiDir: pki.dir, agentListen: '127.0.0.1:0', adminListen: '127.0.0.1:0', logLevel: 'info' },
    log('controller'),
  );
  const fleet = await createFleet({
    controllerAddress: controller.agentAddress,
    nodes: o.nodes,
    workers: o.workers,
    logFile: log('fleet'),
  });
  const runs: WaveRun[] = [];
  const checks: Record<string, unknown> = {};
  // CPU seconds used during the counted waves, by side: all of it runs on this machine's cores together.
  const cpu = { controller: 0, agents: 0, bareServer: 0, bareClients: 0 };
  const cpuOf = (pids: number[]) => pids.reduce((t, pid) => t + cpuSeconds(pid), 0);
  try {
    const connect = await fleet.start();
    await fleet.waitFor((s) => s.connected === o.nodes, 120_000, 'every simulated node connected');
    checks.connectAllMs = connect.ms;
    const { token } = await controller.call<{ token: string }>('operatorToken', { name: 'bench-operator' });
    const api = createAdminApi(
      cliConfigSchema.parse({ controller: controller.adminAddress, caFile: pki.caFile, token, timeoutSeconds: 120 }),
    );
    try {
      // Wave 0 warms up (JIT, statement caches) and is not counted.
      for (let w = 0; w <= o.waves; w++) {
        await fleet.relock();
        await new Promise((r) => setTimeout(r, 500));
        const auditBefore = (await controller.call<{ audit: number }>('status')).audit;
        const cpu0 = { controller: cpuSeconds(controller.pid), agents: cpuOf(fleet.pids()) };
        const t0 = process.hrtime.bigint();
        const res = await api.call(
          api.client.requestOperations,
          RequestOperationsRequest.fromPartial({
            selector: { all: true },
            backend: Backend.BACKEND_LINUX,
            account: 'ilmnuser',
            action: Action.ACTION_UNLOCK,
            passwordSource: PasswordSource.PASSWORD_SOURCE_UNSPECIFIED,
            reason: `BENCH-wave-${w}`,
          }),
        );
        const requestMs = Number(process.hrtime.bigint() - t0) / 1e6;
        let last: WatchChangeRequestResponse | undefined;
        for await (const u of api.stream(api.client.watchChangeRequest, { id: res.request!.id })) {
          last = u as WatchChangeRequestResponse;
          if (last.done) break;
        }
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const succeeded = (
          await controller.call<{ count: number }>('countAudit', {
            action: 'operation.succeeded',
            afterSeq: auditBefore,
          })
        ).count;
        if (!last?.done || succeeded !== o.nodes)
          throw new Error(`wave ${w}: ${succeeded} of ${o.nodes} results audited as succeeded`);
        if (w > 0) {
          runs.push({ ms, requestMs, succeeded });
          cpu.controller += cpuSeconds(controller.pid) - cpu0.controller;
          cpu.agents += cpuOf(fleet.pids()) - cpu0.agents;
        }
      }
    } finally {
      api.close();
    }
    const stats = await fleet.stats();
    // Each wave unlocked every node once: no node applied an operation twice, none was skipped.
    checks.unlocksPerNode = stats.unlockPerNode;
    checks.appliedOncePerWave = stats.unlockPerNode.min === o.waves + 1 && stats.unlockPerNode.max === o.waves + 1;
    const verify = await controller.call<{ ok: boolean; total: number }>('verify');
    checks.auditChain = verify;
    if (!checks.appliedOncePerWave || !verify.ok) throw new Error(`wave checks failed: ${JSON.stringify(checks)}`);
  } finally {
    await fleet.stop();
    await controller.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }

  // Baseline: the same fan-out with bare grpc-js.
  const bare = await startBareFleet({
    pkiDir: pki.dir,
    nodes: o.nodes,
    workers: o.workers,
    sizes: { hello: sizes.hello, welcome: sizes.welcome, result: sizes.result },
    logFile: log('bare'),
  });
  const bareRounds: number[] = [];
  let rtt: number[] | undefined;
  try {
    await bare.connect();
    if ((await bare.streams()) !== o.nodes)
      throw new Error(`bare baseline: ${await bare.streams()} of ${o.nodes} streams open`);
    for (let r = 0; r <= o.waves; r++) {
      const c0 = { server: cpuSeconds(Number(bare.server.info.pid)), clients: cpuOf(bare.clientPids()) };
      const { ms } = await bare.server.call<{ ms: number }>('broadcast', { bytes: sizes.operation });
      if (r > 0) {
        bareRounds.push(ms);
        cpu.bareServer += cpuSeconds(Number(bare.server.info.pid)) - c0.server;
        cpu.bareClients += cpuOf(bare.clientPids()) - c0.clients;
      }
    }
    rtt = (
      await bare.server.call<{ samples: number[] }>('pingPong', { bytes: sizes.operation, count: 200 })
    ).samples.slice(20);
  } finally {
    await bare.stop();
  }

  const waveMs = median(runs.map((r) => r.ms));
  const perNode = waveMs / o.nodes;
  const barePerNode = median(bareRounds) / o.nodes;
  const ratio = perNode / barePerNode;
  const perNodeUs = (seconds: number) => (seconds / (o.waves * o.nodes)) * 1e6;
  const cpuPerNode = {
    controller: perNodeUs(cpu.controller),
    agents: perNodeUs(cpu.agents),
    bareServer: perNodeUs(cpu.bareServer),
    bareClients: perNodeUs(cpu.bareClients),
  };
  return {
    name: 'wave',
    title: o.dataOnTmpfs
      ? 'Unlock wave via admin API (DIAGNOSTIC: data file on tmpfs, no fsync cost)'
      : 'Unlock wave via admin API',
    size: `${o.nodes.toLocaleString('en-US')} nodes, ${o.workers} simulator processes, median of ${o.waves} waves`,
    seconds: (Date.now() - started) / 1000,
    figures: [
      { metric: 'request to last audited result', value: waveMs, unit: 'ms', goal: '< 1,000 ms', met: waveMs < 1000 },
      {
        metric: 'dispatch cost per node',
        value: perNode * 1000,
        unit: 'µs',
        baseline: { label: 'bare grpc-js fan-out round trip per stream', value: barePerNode * 1000 },
        ratio,
        goal: '≤ 3x',
        met: ratio <= 3,
        note: `CPU per node: controller ${cpuPerNode.controller.toFixed(0)} µs, simulated agents ${cpuPerNode.agents.toFixed(0)} µs; bare server ${cpuPerNode.bareServer.toFixed(0)} µs, bare clients ${cpuPerNode.bareClients.toFixed(0)} µs`,
      },
    ],
    checks: {
      ...checks,
      waves: runs,
      cpuMicrosecondsPerNode: cpuPerNode,
      bareRoundsMs: bareRounds,
      bareSingleStreamRttMedianMs: median(rtt ?? []),
      messageBytes: sizes,
    },
  };
}
