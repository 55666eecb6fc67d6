/** Durations on the command line: "90d", "12h", "30m", "45s", or plain seconds. */
import { UsageError } from './usage-error';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** Seconds in `text`; a UsageError naming the option when it is not a positive duration. */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+)([smhdw]?)$/.exec(text.trim());
  const seconds = m ? Number(m[1]) * UNIT_SECONDS[m[2] || 's'] : NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0)
    throw new UsageError(`${option} must be a duration like 90d, 12h, 30m or 45s, got ${JSON.stringify(text)}`);
  return seconds;
}
