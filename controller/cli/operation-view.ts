/** How change requests and their per-node operations look on the terminal and in --json. */
import {
  ChangeRequest,
  ChangeRequestState,
  OperationState,
  OperationSummary,
  type GeneratedPassword,
} from '../../shared/gen/fleetpass/v1/admin';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { shortDuration, table } from './output';
import { enumWord } from './parse-enums';

export const FINAL_OPERATION_STATES: ReadonlySet<OperationState> = new Set([
  OperationState.OPERATION_STATE_SUCCEEDED,
  OperationState.OPERATION_STATE_FAILED,
  OperationState.OPERATION_STATE_REFUSED,
  OperationState.OPERATION_STATE_EXPIRED,
  OperationState.OPERATION_STATE_CANCELLED,
]);

export const isFinalOperation = (o: OperationSummary): boolean => FINAL_OPERATION_STATES.has(o.state);

/** Waiting for a node that is not connected: nothing more happens until it returns or the operation expires. */
export const isWaitingOffline = (o: OperationSummary): boolean =>
  o.state === OperationState.OPERATION_STATE_APPROVED && !o.nodeOnline;

export function opStateWord(s: OperationState): string {
  return enumWord(OperationState[s], 'OPERATION_STATE_');
}

export function requestStateWord(s: ChangeRequestState): string {
  return enumWord(ChangeRequestState[s], 'CHANGE_REQUEST_STATE_');
}

export function actionWord(a: Action): string {
  return enumWord(Action[a], 'ACTION_');
}

export function backendWord(b: Backend): string {
  return enumWord(Backend[b], 'BACKEND_');
}

function stateCell(o: OperationSummary, now: number): string {
  if (isWaitingOffline(o))
    return `waiting (node offline${o.expires ? `, expires in ${shortDuration(o.expires.getTime() - now)}` : ''})`;
  return opStateWord(o.state);
}

/** The per-node result table; generated passwords in their own column when there are any. */
export function operationsTable(
  ops: readonly OperationSummary[],
  passwords: readonly GeneratedPassword[],
  now: number,
): string {
  const pw = new Map(passwords.map((p) => [p.nodeId, p.password]));
  const head = ['node', 'state', 'error', 'detail'];
  if (pw.size) head.push('new password (shown once)');
  const rows = [...ops]
    .sort((a, b) => a.nodeId.localeCompare(b.nodeId))
    .map((o) => {
      const detail = [o.message, o.failedStep ? `step ${o.failedStep}` : '', ...o.notes].filter(Boolean).join('; ');
      const row: string[] = [
        o.hostname && o.hostname !== o.nodeId ? `${o.nodeId} (${o.hostname})` : o.nodeId,
        stateCell(o, now),
        o.errorCode || '-',
        detail || '-',
      ];
      if (pw.size) row.push(pw.get(o.nodeId) ?? '-');
      return row;
    });
  return table(head, rows);
}

/** "3 succeeded, 1 failed, 2 waiting for offline nodes". */
export function outcomeSummary(ops: readonly OperationSummary[]): {
  text: string;
  succeeded: number;
  notSucceeded: number;
} {
  const counts = new Map<string, number>();
  for (const o of ops) {
    const k = isWaitingOffline(o) ? 'waiting for offline nodes' : opStateWord(o.state);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const succeeded = counts.get('succeeded') ?? 0;
  return { text: [...counts].map(([k, n]) => `${n} ${k}`).join(', '), succeeded, notSucceeded: ops.length - succeeded };
}

/** A change request as JSON for scripts: enum names, ISO times. */
export function requestJson(
  r: ChangeRequest | undefined,
  ops: readonly OperationSummary[],
  extra: Record<string, unknown> = {},
): unknown {
  return {
    request: r ? ChangeRequest.toJSON(r) : null,
    operations: ops.map((o) => OperationSummary.toJSON(o)),
    ...extra,
  };
}

/**
 * One line about a request, naming who asked and who decided:
 * "<id> reset-password ilmnadmin (linux) on 3 node(s), in-progress, approved by bob, asked by alice: T-1".
 */
export function requestLine(r: ChangeRequest): string {
  const decided = r.approvedBy ? `, approved by ${r.approvedBy}` : r.rejectedBy ? `, rejected by ${r.rejectedBy}` : '';
  return `${r.id} ${actionWord(r.action)} ${r.account} (${backendWord(r.backend)}) on ${r.nodeCount} node(s), ${requestStateWord(r.state)}${decided}, asked by ${r.requestedBy}: ${r.reason}`;
}
