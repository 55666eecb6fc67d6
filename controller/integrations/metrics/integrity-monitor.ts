/**
 * Keeps the audit chain's last verification result for fleetpass_audit_integrity and /readyz: the whole
 * chain (with its checkpoints) is verified at start and then every `intervalMs`, off the request path,
 * because a million records take seconds. The check is injectable so the signed-checkpoint work
 * (controller/audit) can plug in its own verification.
 */
import type { Logger } from '../../../shared/logger';

export interface IntegrityResult {
  ok: boolean;
  problem: string;
  checkedAt: Date;
}

export interface IntegrityMonitor {
  current(): IntegrityResult;
  /** Verifies now and keeps the result. */
  checkNow(): IntegrityResult;
  start(): void;
  stop(): void;
}

export function createIntegrityMonitor(
  check: () => { ok: boolean; problem: string },
  o: { intervalMs: number; now: () => Date; log: Logger },
): IntegrityMonitor {
  let last: IntegrityResult | undefined;
  let timer: NodeJS.Timeout | undefined;

  function checkNow(): IntegrityResult {
    let r: { ok: boolean; problem: string };
    try {
      r = check();
    } catch (err) {
      r = { ok: false, problem: `the audit chain cannot be read: ${(err as Error).message}` };
    }
    const wasOk = last?.ok;
    last = { ok: r.ok, problem: r.problem, checkedAt: o.now() };
    if (!r.ok && wasOk !== false)
      o.log.error({ code: 'FP_AUDIT_BROKEN', problem: r.problem }, 'audit chain integrity lost');
    if (r.ok && wasOk === false) o.log.info('audit chain verifies again');
    return last;
  }

  return {
    current: () => last ?? checkNow(),
    checkNow,
    start() {
      checkNow();
      timer = setInterval(checkNow, o.intervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
