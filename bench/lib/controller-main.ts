/**
 * BENCHMARK ONLY: the controller under test, in its own process: the same createController (admin API
 * on; escrow and the web console off) as dist/fleetpass-controller.js, logging JSON lines to stdout (a file) at the configured
 * level, plus an IPC channel for the benchmark to read memory, sessions, event-loop delay and audit
 * counts. Operator tokens come from the product's own bootstrap (bootstrapAdmin) and admin service.
 * Run: node controller-main.js '<json settings>' (with --expose-gc for memory figures).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { bootstrapAdmin } from '../../controller/commands/bootstrap-admin';
import { verifyAudit } from '../../controller/audit';
import { loadControllerConfig } from '../../controller/config';
import { createController } from '../../controller/controller';
import { systemClock } from '../../shared/clock';
import { createLogger } from '../../shared/logger';
import { writeHeapSnapshot } from 'node:v8';
import { serveIpc } from './ipc';

export interface BenchControllerSettings {
  stateDir: string;
  pkiDir: string;
  agentListen: string;
  adminListen: string;
  logLevel: string;
  heartbeatSeconds?: number;
}

export interface ControllerStatus {
  sessions: number;
  memory: NodeJS.MemoryUsage;
  audit: number;
}

async function main(): Promise<void> {
  const s = JSON.parse(process.argv[2]) as BenchControllerSettings;
  const { config } = loadControllerConfig({
    env: {},
    flags: {
      stateDir: s.stateDir,
      agentListen: s.agentListen,
      adminListen: s.adminListen,
      webListen: '127.0.0.1:0',
      metricsListen: '127.0.0.1:0',
      web: { enabled: false },
      escrow: { enabled: false },
      tls: { dir: s.pkiDir },
      log: { level: s.logLevel },
      ...(s.heartbeatSeconds ? { heartbeatSeconds: s.heartbeatSeconds } : {}),
    },
  });
  const log = createLogger({ level: config.log.level, name: 'fleetpass-controller' });
  const controller = createController(config, { log });
  const started = await controller.start();
  const ctx = controller.context();
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  let stopping: Promise<void> | undefined;
  const stop = (why: string) => (stopping ??= controller.shutdown(why));
  process.on('SIGTERM', () => void stop('SIGTERM').then(() => process.exit(0)));
  const gc = (globalThis as { gc?: () => void }).gc;

  serveIpc(
    {
      status: (): ControllerStatus => ({
        sessions: ctx.sessions.size(),
        memory: process.memoryUsage(),
        audit: ctx.audit.head().seq,
      }),
      /** Diagnostic: writes a V8 heap snapshot to `file` (to see what a node costs). */
      heapSnapshot: (b) => ({ file: writeHeapSnapshot(String(b.file)) }),
      gc: async () => {
        if (!gc) throw new Error('start the controller with --expose-gc');
        for (let i = 0; i < 3; i++) {
          gc();
          await new Promise((r) => setImmediate(r));
        }
        return process.memoryUsage();
      },
      /** The bootstrapped admin makes an operator (role operator) and an API token for it. */
      operatorToken: (b) => {
        const boot = bootstrapAdmin(ctx.store.db, systemClock, { name: 'bench-admin', force: true });
        const service = ctx.service;
        const p = service.principalFor(boot.operator, 'local');
        const name = String(b.name ?? 'bench-operator');
        if (!service.listOperators(p).some((o) => o.name === name))
          service.createOperator(p, { name, role: 'operator' });
        return { token: service.createApiToken(p, { operator: name }).token, adminAddress: ctx.adminAddress };
      },
      lagReset: () => {
        lag.reset();
        return {};
      },
      lag: () => ({ maxMs: lag.max / 1e6, p99Ms: lag.percentile(99) / 1e6, meanMs: lag.mean / 1e6 }),
      countAudit: (b) => ({
        count: ctx.store.db
          .prepare('SELECT count(*) FROM audit_log WHERE action = ? AND seq > ?')
          .pluck()
          .get(String(b.action), Number(b.afterSeq ?? 0)) as number,
      }),
      verify: () => verifyAudit(ctx.store.db, { checkpointFile: ctx.paths.checkpointFile }),
      shutdown: async () => {
        await stop('benchmark done');
        setImmediate(() => process.exit(0));
        return {};
      },
    },
    {
      agentAddress: started.agentAddress,
      adminAddress: started.adminAddress,
      caFingerprint: started.caFingerprint,
      pid: process.pid,
    },
  );
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
