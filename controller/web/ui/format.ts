/** Words and times for people: time left on a lock, "5 min ago", labels for enum words. */

/** "9m 58s", "1h 02m", "2d 3h"; "until unlocked" for a lock that never ends by itself. */
export function timeLeft(lockEnds: string | null, permanent: boolean, now: number): string {
  if (permanent || !lockEnds) return 'until unlocked';
  const ms = new Date(lockEnds).getTime() - now;
  if (ms <= 0) return 'ending now';
  const sec = Math.ceil(ms / 1000);
  if (sec < 60) return `${sec}s`;
  const min = Math.floor(sec / 60);
  if (min < 60) return `${min}m ${String(sec % 60).padStart(2, '0')}s`;
  const hr = Math.floor(min / 60);
  if (hr < 48) return `${hr}h ${String(min % 60).padStart(2, '0')}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}

/** "just now", "5 min ago", "3 h ago", or the date. */
export function ago(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const ms = now - new Date(iso).getTime();
  if (ms < 45_000) return 'just now';
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  if (ms < 86_400_000) return `${Math.round(ms / 3_600_000)} h ago`;
  return dateTime(iso);
}

/** Local "YYYY-MM-DD HH:MM:SS". */
export function dateTime(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const ACTIONS: Record<string, string> = {
  unlock: 'Unlock',
  reset_password: 'Reset password',
  refresh_state: 'Refresh',
  unknown: 'Unknown',
};
const BACKENDS: Record<string, string> = { linux: 'Linux', ssr: 'SSR', lrm: 'Local Run Manager', unknown: 'Unknown' };
const STATES: Record<string, string> = {
  pending_approval: 'Waiting for approval',
  approved: 'Approved, in progress',
  rejected: 'Rejected',
  cancelled: 'Cancelled',
  done: 'Done',
  requested: 'Requested',
  dispatched: 'Sent to node',
  succeeded: 'Succeeded',
  failed: 'Failed',
  refused: 'Refused by node',
  expired: 'Expired',
};

export const actionLabel = (a: string): string => ACTIONS[a] ?? a;
export const backendLabel = (b: string): string => BACKENDS[b] ?? b;
export const stateLabel = (s: string): string => STATES[s] ?? s.replace(/_/g, ' ');

/** "3 failures (deny at 3)". */
export function failures(count: number, threshold: number): string {
  return threshold > 0 ? `${count} of ${threshold}` : String(count);
}
