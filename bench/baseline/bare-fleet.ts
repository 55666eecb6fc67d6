/**
 * BENCHMARK ONLY: the baseline fleet, parent side: a bare grpc-js server process and the same number of
 * client processes and streams as the fleet simulator uses, connected the same way (mTLS, one
 * connection per node certificate).
 */
import { forkChild, type Child } from '../lib/ipc';
import { bundle } from '../lib/paths';

export interface BareFleetOptions {
  pkiDir: string;
  nodes: number;
  workers: number;
  sizes: { hello: number; welcome: number; result: number };
  logFile: string;
  rampConcurrency?: number;
}

export interface BareFleet {
  server: Child;
  /** Server memory right after start (after GC). */
  memoryBefore: NodeJS.MemoryUsage;
  connect(): Promise<{ ms: number }>;
  streams(): Promise<number>;
  /** The client worker processes' pids. */
  clientPids(): number[];
  stop(): Promise<void>;
}

/** Starts the bare server (with --expose-gc) and forks the client workers. */
export async function startBareFleet(o: BareFleetOptions): Promise<BareFleet> {
  const server = await forkChild(bundle('bare-server'), {
    args: [JSON.stringify({ pkiDir: o.pkiDir, welcomeBytes: o.sizes.welcome })],
    execArgv: ['--expose-gc'],
    logFile: o.logFile,
  });
  const memoryBefore = await server.call<NodeJS.MemoryUsage>('gc');
  const per = Math.ceil(o.nodes / o.workers);
  const workers: Child[] = [];
  const ranges: Array<{ first: number; count: number }> = [];
  for (let first = 1; first <= o.nodes; first += per) ranges.push({ first, count: Math.min(per, o.nodes - first + 1) });
  for (let i = 0; i < ranges.length; i++) workers.push(await forkChild(bundle('bare-worker'), { logFile: o.logFile }));
  const address = String(server.info.address);
  return {
    server,
    memoryBefore,
    async connect() {
      const t0 = Date.now();
      await Promise.all(
        workers.map((w, i) =>
          w.call(
            'start',
            {
              address,
              ...ranges[i],
              helloBytes: o.sizes.hello,
              resultBytes: o.sizes.result,
              rampConcurrency: o.rampConcurrency ?? 16,
            },
            900_000,
          ),
        ),
      );
      return { ms: Date.now() - t0 };
    },
    clientPids: () => workers.map((w) => w.proc.pid!),
    async streams() {
      return (await server.call<{ streams: number }>('status')).streams;
    },
    async stop() {
      await Promise.all(workers.map((w) => w.call('stop').catch(() => undefined)));
      for (const w of workers) w.kill('SIGKILL');
      await server.call('shutdown').catch(() => undefined);
      server.kill('SIGKILL');
      await Promise.all([...workers.map((w) => w.exited), server.exited]);
    },
  };
}
