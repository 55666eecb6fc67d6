/**
 * Store records to the console's JSON shapes (api-types.ts): enums as words, times as ISO strings. The
 * console's only mapping layer; it never sees a secret (operations carry none, only whether one waits).
 */
import { Action, Backend, LockReason, type AccountState } from '../../shared/gen/fleetpass/v1/common';
import type { AuditRecord } from '../audit';
import type { AccountListing } from '../service';
import type { NodeView } from '../store';
import type { ChangeRequestRecord, NodeRecord, OperationRecord, OperationState } from '../store';
import type {
  AccountJson,
  AccountStateJson,
  ActionWord,
  AuditRecordJson,
  BackendWord,
  NodeJson,
  OperationJson,
  RequestJson,
} from './api-types';

const BACKEND_WORDS: Record<number, BackendWord> = {
  [Backend.BACKEND_LINUX]: 'linux',
  [Backend.BACKEND_SSR]: 'ssr',
  [Backend.BACKEND_LRM]: 'lrm',
};
const ACTION_WORDS: Record<number, ActionWord> = {
  [Action.ACTION_UNLOCK]: 'unlock',
  [Action.ACTION_RESET_PASSWORD]: 'reset_password',
  [Action.ACTION_REFRESH_STATE]: 'refresh_state',
};

export function backendWord(b: Backend): BackendWord {
  return BACKEND_WORDS[b] ?? 'unknown';
}

/** The Backend for a word from the console; undefined for anything else. */
export function backendFromWord(w: unknown): Backend | undefined {
  return w === 'linux'
    ? Backend.BACKEND_LINUX
    : w === 'ssr'
      ? Backend.BACKEND_SSR
      : w === 'lrm'
        ? Backend.BACKEND_LRM
        : undefined;
}

export function actionWord(a: Action): ActionWord {
  return ACTION_WORDS[a] ?? 'unknown';
}

const iso = (d: Date | undefined): string | null => (d ? d.toISOString() : null);

/** The site a node belongs to: its `site` label, or "(no site)". */
export function siteOf(labels: Record<string, string>): string {
  return labels.site || '(no site)';
}

export function nodeJson(n: NodeRecord, lockedAccounts = 0): NodeJson {
  return {
    id: n.id,
    hostname: n.hostname,
    platform: n.platform,
    labels: { ...n.labels },
    reportedLabels: { ...n.reportedLabels },
    agentVersion: n.agentVersion,
    backends: n.backends.map(backendWord),
    online: n.online,
    stale: n.stale,
    revoked: n.revoked,
    busy: n.busy,
    firstSeen: n.firstSeen,
    lastSeen: n.lastSeen,
    lockedAccounts,
  };
}

export function nodeViewJson(n: NodeView): NodeJson {
  return nodeJson(n, n.lockedAccounts);
}

export function accountStateJson(s: AccountState): AccountStateJson {
  return {
    backend: backendWord(s.backend),
    account: s.account,
    exists: s.exists,
    locked: s.locked,
    lockReasons: s.lockReasons.map((r) => (LockReason[r] ?? String(r)).replace(/^LOCK_REASON_/, '').toLowerCase()),
    failureCount: s.failureCount,
    denyThreshold: s.denyThreshold,
    lockEnds: iso(s.lockEnds),
    lockPermanent: s.lockPermanent,
    lastFailure: iso(s.lastFailure),
    lastFailureSource: s.lastFailureSource,
    passwordChanged: iso(s.passwordChanged),
    passwordExpires: iso(s.passwordExpires),
    mustChangePassword: s.mustChangePassword,
    observed: iso(s.observed),
  };
}

export function accountJson(a: AccountListing): AccountJson {
  return {
    nodeId: a.node.id,
    hostname: a.node.hostname,
    site: siteOf(a.node.labels),
    online: a.node.online,
    privileged: a.privileged,
    changed: a.account.changed,
    state: accountStateJson(a.account.state),
  };
}

export function operationJson(op: OperationRecord): OperationJson {
  return {
    id: op.id,
    requestId: op.requestId,
    nodeId: op.nodeId,
    backend: backendWord(op.backend),
    account: op.account,
    action: actionWord(op.action),
    state: op.state,
    errorCode: op.errorCode,
    message: op.message,
    updated: op.updated,
    expires: op.expires,
    lockedAfter: op.after ? op.after.locked : null,
  };
}

export function requestJson(
  r: ChangeRequestRecord,
  counts: Partial<Record<OperationState, number>>,
  operations?: OperationRecord[],
): RequestJson {
  return {
    id: r.id,
    requestedBy: r.requestedBy,
    reason: r.reason,
    backend: backendWord(r.backend),
    account: r.account,
    action: actionWord(r.action),
    state: r.state,
    needsApproval: r.needsApproval,
    privileged: r.privileged,
    approvedBy: r.approvedBy,
    rejectedBy: r.rejectedBy,
    decisionNote: r.decisionNote,
    created: r.created,
    expires: r.expires,
    counts: { ...counts },
    operations: operations?.map(operationJson),
  };
}

export function auditRecordJson(r: AuditRecord): AuditRecordJson {
  let details: Record<string, unknown>;
  try {
    details = JSON.parse(r.detailsJson) as Record<string, unknown>;
  } catch {
    details = { unparsed: r.detailsJson };
  }
  return {
    seq: r.seq,
    time: r.time,
    actor: r.actor,
    action: r.action,
    nodeId: r.nodeId,
    account: r.account,
    operationId: r.operationId,
    requestId: r.requestId,
    outcome: r.outcome,
    reason: r.reason,
    details,
    hash: r.hash,
  };
}
