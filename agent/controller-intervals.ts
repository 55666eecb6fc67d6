/**
 * The durations a controller may set on an agent (its welcome's heartbeat and report interval), held to
 * fixed ranges. A Node timer longer than 2^31-1 ms fires after 1 ms instead, so an unchecked value from a
 * broken or hostile controller (4294967295 s) would turn the agent into a busy loop of reports.
 */
import type { Logger } from '../shared/logger';

/** The range of each controller-set duration, in seconds (the maxima are the agent's own config maxima). */
export const CONTROLLER_SECONDS_RANGE = {
  heartbeatSeconds: { min: 1, max: 3600 },
  reportIntervalSeconds: { min: 1, max: 86_400 },
} as const;

export type ControllerDuration = keyof typeof CONTROLLER_SECONDS_RANGE;

/**
 * The controller's value for `name` held to its range; undefined when the controller sent none (0), so the
 * agent keeps its own setting. A value outside the range is logged with what was used instead.
 */
export function clampControllerSeconds(name: ControllerDuration, value: number, log: Logger): number | undefined {
  if (!Number.isFinite(value) || value <= 0) return undefined;
  const { min, max } = CONTROLLER_SECONDS_RANGE[name];
  const used = Math.min(max, Math.max(min, Math.floor(value)));
  if (used !== value)
    log.warn({ setting: name, sent: value, used, min, max }, 'controller setting out of range; clamped');
  return used;
}
