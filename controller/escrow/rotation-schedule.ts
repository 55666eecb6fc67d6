/**
 * When an account is next rotated: its class's window (cron) opens, and each account's turn falls at a
 * fixed offset within the spread (a hash of node, backend and account, so a large fleet is not rotated at
 * once and the same account keeps its slot). An outstanding demand (post-use, asked for, failed) may come
 * earlier; a back-off after a failure pushes it later. Pure functions: time comes in as arguments.
 */
import { createHash } from 'node:crypto';
import { nextCronTime } from '../jobs/schedule';
import type { AccountKey } from './escrow-repo';

/** The account's fixed offset within a window of `spreadSeconds`, in ms (whole seconds). */
export function spreadOffsetMs(a: AccountKey, spreadSeconds: number): number {
  if (spreadSeconds <= 0) return 0;
  const h = createHash('sha256').update(`${a.nodeId}\0${a.backend}\0${a.account}`).digest();
  return (h.readUIntBE(0, 6) % spreadSeconds) * 1000;
}

/**
 * The scheduled rotation after a password set (or first seen) at `since`: the account's slot in the first
 * window that opens after `since`, so a password set inside a window is not rotated again in that window.
 */
export function scheduledRotation(
  schedule: string | undefined,
  spreadSeconds: number,
  a: AccountKey,
  since: Date,
): Date | undefined {
  if (!schedule) return undefined;
  const opens = nextCronTime(schedule, since);
  return opens && new Date(opens.getTime() + spreadOffsetMs(a, spreadSeconds));
}

export interface NextRotationInput {
  scheduled?: Date;
  /** An outstanding demand (post-use, asked for, or a failed rotation to retry). */
  demanded?: Date;
  /** Back-off after a failure: not before this. */
  notBefore?: Date;
}

/** The next rotation and why; undefined when nothing is scheduled or demanded. */
export function nextRotation(i: NextRotationInput): { at: Date; why: 'schedule' | 'demand' } | undefined {
  let next: { at: Date; why: 'schedule' | 'demand' } | undefined;
  if (i.scheduled) next = { at: i.scheduled, why: 'schedule' };
  if (i.demanded && (!next || i.demanded < next.at)) next = { at: i.demanded, why: 'demand' };
  if (next && i.notBefore && i.notBefore > next.at) next = { ...next, at: i.notBefore };
  return next;
}

/** Back-off after the n-th failure in a row: base·2^(n-1), at most max (seconds in, ms out). */
export function retryDelayMs(failures: number, retry: { baseSeconds: number; maxSeconds: number }): number {
  const n = Math.max(1, failures);
  return Math.min(retry.baseSeconds * 2 ** Math.min(n - 1, 30), retry.maxSeconds) * 1000;
}
