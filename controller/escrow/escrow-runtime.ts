/**
 * Password escrow in a running controller, started by the composition root when escrow.enabled:
 * loads the master key (unless the root already loaded and checked it before it opened the data file),
 * records or checks its check value, starts the engine (event capture, catch-up) and schedules the
 * rotation pass (escrow.checkSchedule). stop(): ends the schedule and waits for the pass in progress.
 */
import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import type { Policy } from '../access/policy';
import type { AuditLog } from '../audit';
import type { Dispatcher } from '../dispatch';
import { scheduleJobs, type Scheduler } from '../jobs/schedule';
import type { Store } from '../store';
import { createEscrow, type Escrow } from './escrow';
import type { EscrowConfig } from './escrow-config';
import { createEscrowRepo } from './escrow-repo';
import { loadMasterKey, type MasterKey } from './master-key';

export interface EscrowRuntimeOptions {
  /** escrow config with its key file resolved (ControllerConfig.escrow). */
  config: EscrowConfig & { keyFile: string };
  policy: Policy;
  store: Store;
  audit: AuditLog;
  dispatcher: Dispatcher;
  clock: Clock;
  log: Logger;
  /** The key, already loaded and checked against the data file before the controller opened it. */
  masterKey?: MasterKey;
  /** Where FLEETPASS_ESCROW_KEY is read. */
  env: NodeJS.ProcessEnv;
  /** false: no cron (tests call `engine.runRotations()`). */
  scheduleJobs: boolean;
  /** The jobs' log (the rotation pass logs counts there, not the requests). */
  jobLog: Logger;
}

export interface EscrowRuntime {
  engine: Escrow;
  stop(): Promise<void>;
}

/** Starts escrow over the opened data file. */
export function startEscrow(o: EscrowRuntimeOptions): EscrowRuntime {
  const repo = createEscrowRepo(o.store.db);
  const master = o.masterKey ?? loadMasterKey({ keyFile: o.config.keyFile, env: o.env, mayCreate: !repo.meta() });
  const engine = createEscrow({
    config: o.config,
    store: o.store,
    repo,
    audit: o.audit,
    dispatcher: o.dispatcher,
    vault: o.dispatcher.deps.vault,
    policy: o.policy,
    master,
    clock: o.clock,
    log: o.log,
  });
  engine.start();
  let scheduler: Scheduler | undefined;
  if (o.scheduleJobs) {
    const run = async () => {
      const r = await engine.runRotations();
      return { requested: r.requests.length, waiting: r.waiting.length };
    };
    scheduler = scheduleJobs([{ name: 'escrow-rotate', cron: o.config.checkSchedule, run }], o.jobLog);
  }
  return {
    engine,
    async stop() {
      await scheduler?.stop();
      await engine.stop();
    },
  };
}
