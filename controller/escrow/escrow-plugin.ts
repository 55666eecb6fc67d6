/**
 * Password escrow as a controller plugin. start(): loads the master key (unless main already loaded and
 * checked it before the controller opened the data file), records or checks its check value, starts the
 * engine (event capture, catch-up) and schedules the rotation pass (escrow.checkSchedule). shutdown():
 * stops the schedule and waits for the pass in progress. With escrow.enabled false it does nothing and
 * the escrow calls answer FP_ACTION_UNSUPPORTED.
 */
import { FleetpassError } from '../../shared/errors';
import type { EscrowExtension } from '../admin/extensions';
import { compilePolicy } from '../admin/policy';
import type { ControllerPlugin } from '../controller';
import { scheduleJobs, type Scheduler } from '../jobs/schedule';
import { createEscrow, type Escrow } from './escrow';
import { escrowAdminExtension } from './escrow-extension';
import { createEscrowRepo } from './escrow-repo';
import { loadMasterKey, type MasterKey } from './master-key';

export interface EscrowPluginOptions {
  /** The key, already loaded and checked against the data file before the controller started (main, demo). */
  masterKey?: MasterKey;
  /** Where FLEETPASS_ESCROW_KEY is read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** false: no cron (tests call `engine().runRotations()`). */
  scheduleJobs?: boolean;
}

export interface EscrowPlugin extends ControllerPlugin {
  /** The admin API extension (usable once started). */
  extension(): EscrowExtension;
  /** The engine; FP_ACTION_UNSUPPORTED when escrow is off, FP_UNAVAILABLE before start. */
  engine(): Escrow;
}

/** The escrow plugin; put it before the admin API in ControllerDeps.plugins. */
export function escrowPlugin(options: EscrowPluginOptions = {}): EscrowPlugin {
  let engine: Escrow | undefined;
  let scheduler: Scheduler | undefined;
  let disabled = false;
  const plugin: EscrowPlugin = {
    name: 'escrow',
    start(ctx) {
      const config = ctx.config.escrow;
      const log = ctx.log.child({ component: 'escrow' });
      if (!config.enabled) {
        disabled = true;
        log.info('password escrow is turned off');
        return;
      }
      const repo = createEscrowRepo(ctx.store.db);
      const master = options.masterKey ?? loadMasterKey({ keyFile: config.keyFile, env: options.env ?? process.env, mayCreate: !repo.meta() });
      const e = createEscrow({
        config, store: ctx.store, repo, service: ctx.service, vault: ctx.dispatcher.deps.vault, policy: compilePolicy(ctx.config.policy), master,
        clock: ctx.clock, log,
      });
      e.start();
      engine = e;
      if (options.scheduleJobs !== false) {
        // The job log gets counts, not the requests.
        const run = async () => {
          const r = await e.runRotations();
          return { requested: r.requests.length, waiting: r.waiting.length };
        };
        scheduler = scheduleJobs([{ name: 'escrow-rotate', cron: config.checkSchedule, run }], ctx.log.child({ component: 'jobs' }));
      }
    },
    async shutdown() {
      await scheduler?.stop();
      await engine?.stop();
    },
    extension: () => escrowAdminExtension(() => plugin.engine()),
    engine() {
      if (disabled) throw new FleetpassError('FP_ACTION_UNSUPPORTED', 'password escrow is turned off on this controller (escrow.enabled: false)');
      if (!engine) throw new FleetpassError('FP_UNAVAILABLE', 'password escrow has not started');
      return engine;
    },
  };
  return plugin;
}
