/**
 * Wires the jobs to their cron schedules: the only place node-cron appears. Runs never overlap per job,
 * every run is logged with its duration and outcome, and `stop()` waits for runs in progress so
 * shutdown does not cut a backup or checkpoint in half. `nextCronTime` answers when an expression next
 * matches after a given time (injected clocks, escrow rotation windows) with node-cron's own parser.
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

/** Day-of-month / day-of-week words (L, W, #) that `nextCronTime` does not compute. */
function plainFields(expression: string): ReturnType<typeof cron.parse> | undefined {
  let fields: ReturnType<typeof cron.parse>;
  try {
    fields = cron.parse(expression);
  } catch {
    return undefined;
  }
  const numeric = (xs: readonly unknown[]) => xs.every((x) => typeof x === 'number');
  if (fields.second.length !== 1 || fields.second[0] !== 0 || !numeric(fields.dayOfMonth) || !numeric(fields.dayOfWeek))
    return undefined;
  return fields;
}

/**
 * True when `nextCronTime` can compute `expression`: minute precision (no seconds field other than 0)
 * and plain day fields (numbers, ranges, lists, steps, names; not L, W or #).
 */
export function isPlainCron(expression: string): boolean {
  return plainFields(expression) !== undefined;
}

/**
 * The first time strictly after `after` that `expression` matches, in the host's local time (as node-cron
 * schedules it); undefined for an expression `isPlainCron` refuses or one that matches nothing in 5 years.
 */
export function nextCronTime(expression: string, after: Date): Date | undefined {
  const f = plainFields(expression);
  if (!f) return undefined;
  const months = new Set(f.month);
  const doms = new Set(f.dayOfMonth as number[]);
  const dows = new Set(f.dayOfWeek as number[]);
  const hours = [...f.hour].sort((a, b) => a - b);
  const minutes = [...f.minute].sort((a, b) => a - b);
  const day = new Date(after.getFullYear(), after.getMonth(), after.getDate());
  for (let i = 0; i < 5 * 366; i++, day.setDate(day.getDate() + 1)) {
    if (!months.has(day.getMonth() + 1) || !doms.has(day.getDate()) || !dows.has(day.getDay())) continue;
    for (const h of hours) {
      for (const m of minutes) {
        const t = new Date(day.getFullYear(), day.getMonth(), day.getDate(), h, m);
        if (t.getTime() > after.getTime()) return t;
      }
    }
  }
  return undefined;
}
