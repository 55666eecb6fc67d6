/** BENCHMARK ONLY: starts the controller under test (controller-main.ts) in its own process. */
import { forkChild, type Child } from './ipc';
import { bundle } from './paths';
import type { BenchControllerSettings } from './controller-main';

export interface BenchController extends Child {
  agentAddress: string;
  adminAddress: string;
  pid: number;
  /** SIGTERM (drains, records the stop) and waits for the exit. */
  stop(): Promise<void>;
}

/** Forks the controller with --expose-gc and waits until it listens. */
export async function startBenchController(
  settings: BenchControllerSettings,
  logFile: string,
): Promise<BenchController> {
  // FLEETPASS_BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each controller run there (for finding where time goes).
  const prof = process.env.FLEETPASS_BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.FLEETPASS_BENCH_CPU_PROF}`]
    : [];
  const child = await forkChild(bundle('controller-main'), {
    args: [JSON.stringify(settings)],
    execArgv: ['--expose-gc', ...prof],
    logFile,
  });
  return {
    ...child,
    agentAddress: String(child.info.agentAddress),
    adminAddress: String(child.info.adminAddress),
    pid: Number(child.info.pid),
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await child.exited;
      clearTimeout(timer);
    },
  };
}
