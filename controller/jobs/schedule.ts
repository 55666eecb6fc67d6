/**
 * Wires the jobs to their cron schedules: the only place node-cron appears. Runs never overlap per job,
 * every run is logged with its duration and outcome, and `stop()` waits for runs in progress so
 * shutdown does not cut a backup or checkpoint in half.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../../shared/logger';

export interface JobSpec {
  name: string;
  cron: string;
  run: () => unknown;
}

export interface Scheduler {
  /** Runs a job now (tests, operator request); resolves when it finished. */
  runNow(name: string): Promise<unknown>;
  stop(): Promise<void>;
}

/** Schedules every job; the cron expressions were validated with the config. */
export function scheduleJobs(jobs: readonly JobSpec[], log: Logger): Scheduler {
  const running = new Map<string, Promise<unknown>>();
  const tasks: ScheduledTask[] = [];
  const specs = new Map(jobs.map((j) => [j.name, j]));

  function execute(job: JobSpec): Promise<unknown> {
    const inProgress = running.get(job.name);
    if (inProgress) {
      log.warn({ job: job.name }, 'job still running; run skipped');
      return inProgress;
    }
    const jlog = log.child({ job: job.name });
    const started = Date.now();
    const p = (async () => {
      try {
        const result = await job.run();
        jlog.info({ ms: Date.now() - started, result: summarize(result) }, 'job run finished');
        return result;
      } catch (err) {
        jlog.error({ err, ms: Date.now() - started }, 'job run failed');
        return undefined;
      } finally {
        running.delete(job.name);
      }
    })();
    running.set(job.name, p);
    return p;
  }

  for (const job of jobs) {
    const task = cron.schedule(job.cron, () => execute(job), { name: job.name, noOverlap: true });
    tasks.push(task);
  }
  log.info({ jobs: jobs.map((j) => `${j.name} ${j.cron}`) }, 'jobs scheduled');

  return {
    runNow(name) {
      const job = specs.get(name);
      if (!job) return Promise.reject(new Error(`no job named ${name}`));
      return execute(job);
    },
    async stop() {
      for (const t of tasks) await t.destroy();
      await Promise.all(running.values());
    },
  };
}

function summarize(result: unknown): unknown {
  if (Array.isArray(result)) return { count: result.length };
  return result;
}
