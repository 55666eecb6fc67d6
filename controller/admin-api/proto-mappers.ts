/** Domain records to AdminService messages and back: the gRPC transport's only mapping layer. */
import {
  ChangeRequestState,
  OperationState,
  RevealState,
  Role,
  type EnrollmentToken,
  type EscrowEntry,
  type Operator,
  type Reveal,
  type AuditRecord as ProtoAuditRecord,
  type ChangeRequest,
  type Node,
  type OperationSummary,
} from '../../shared/gen/fleetpass/v1/admin';
import type { AuditRecord } from '../audit';
import type { EnrollmentTokenView } from '../enroll';
import type { EscrowStatusEntry, RevealRecord, RevealRecordState } from '../escrow';
import type { OperatorRecord, OperatorRole } from '../store/operators-repo';
import type {
  ChangeRequestRecord,
  NodeRecord,
  OperationRecord,
  OperationState as StoreOpState,
  ChangeRequestState as StoreCrState,
} from '../store';

const OP_STATE: Record<StoreOpState, OperationState> = {
  requested: OperationState.OPERATION_STATE_REQUESTED,
  approved: OperationState.OPERATION_STATE_APPROVED,
  dispatched: OperationState.OPERATION_STATE_DISPATCHED,
  succeeded: OperationState.OPERATION_STATE_SUCCEEDED,
  failed: OperationState.OPERATION_STATE_FAILED,
  refused: OperationState.OPERATION_STATE_REFUSED,
  expired: OperationState.OPERATION_STATE_EXPIRED,
  cancelled: OperationState.OPERATION_STATE_CANCELLED,
};

const CR_STATE: Record<StoreCrState, ChangeRequestState> = {
  pending_approval: ChangeRequestState.CHANGE_REQUEST_STATE_PENDING_APPROVAL,
  approved: ChangeRequestState.CHANGE_REQUEST_STATE_APPROVED,
  rejected: ChangeRequestState.CHANGE_REQUEST_STATE_REJECTED,
  cancelled: ChangeRequestState.CHANGE_REQUEST_STATE_CANCELLED,
  done: ChangeRequestState.CHANGE_REQUEST_STATE_DONE,
};

export function operationStateToProto(s: StoreOpState): OperationState {
  return OP_STATE[s];
}

export function changeRequestStateToProto(s: StoreCrState): ChangeRequestState {
  return CR_STATE[s];
}

/** The store state for a proto ChangeRequestState (for list filters); undefined for UNSPECIFIED. */
export function changeRequestStateFromProto(s: ChangeRequestState): StoreCrState | undefined {
  return (Object.keys(CR_STATE) as StoreCrState[]).find((k) => CR_STATE[k] === s);
}

const date = (s: string | null | undefined): Date | undefined => (s ? new Date(s) : undefined);

export function nodeToProto(n: NodeRecord, lockedAccounts = 0): Node {
  return {
    id: n.id,
    hostname: n.hostname,
    platform: n.platform,
    agentVersion: n.agentVersion,
    labels: { ...n.labels },
    reportedLabels: { ...n.reportedLabels },
    backends: [...n.backends],
    online: n.online,
    stale: n.stale,
    revoked: n.revoked,
    busy: n.busy,
    firstSeen: date(n.firstSeen),
    lastSeen: date(n.lastSeen),
    certificateExpires: date(n.certificateExpires),
    lockedAccounts,
  };
}

export function operationToProto(
  op: OperationRecord,
  node?: Pick<NodeRecord, 'hostname' | 'online'>,
): OperationSummary {
  return {
    id: op.id,
    requestId: op.requestId,
    nodeId: op.nodeId,
    hostname: node?.hostname ?? '',
    backend: op.backend,
    account: op.account,
    action: op.action,
    state: OP_STATE[op.state],
    errorCode: op.errorCode,
    message: op.message,
    updated: date(op.updated),
    before: op.before,
    after: op.after,
    notes: [...op.notes],
    failedStep: op.failedStep,
    nodeOnline: node?.online ?? false,
    expires: date(op.expires),
  };
}

/** `counts` keys are proto state names without the prefix, e.g. "SUCCEEDED". */
export function changeRequestToProto(
  cr: ChangeRequestRecord,
  counts: Partial<Record<StoreOpState, number>>,
): ChangeRequest {
  const protoCounts: Record<string, number> = {};
  let nodeCount = 0;
  for (const [state, n] of Object.entries(counts) as Array<[StoreOpState, number]>) {
    protoCounts[state.toUpperCase()] = n;
    nodeCount += n;
  }
  return {
    id: cr.id,
    requestedBy: cr.requestedBy,
    reason: cr.reason,
    backend: cr.backend,
    account: cr.account,
    action: cr.action,
    state: CR_STATE[cr.state],
    needsApproval: cr.needsApproval,
    approvedBy: cr.approvedBy,
    rejectedBy: cr.rejectedBy,
    created: date(cr.created),
    expires: date(cr.expires),
    nodeCount,
    counts: protoCounts,
    privileged: cr.privileged,
    decisionNote: cr.decisionNote,
  };
}

export function auditRecordToProto(r: AuditRecord): ProtoAuditRecord {
  return {
    seq: r.seq,
    time: new Date(r.time),
    actor: r.actor,
    action: r.action,
    nodeId: r.nodeId,
    account: r.account,
    operationId: r.operationId,
    requestId: r.requestId,
    outcome: r.outcome,
    reason: r.reason,
    detailsJson: r.detailsJson,
    prevHash: r.prevHash,
    hash: r.hash,
  };
}

const ROLE: Record<OperatorRole, Role> = {
  viewer: Role.ROLE_VIEWER,
  operator: Role.ROLE_OPERATOR,
  approver: Role.ROLE_APPROVER,
  admin: Role.ROLE_ADMIN,
};

export function roleToProto(role: OperatorRole): Role {
  return ROLE[role];
}

/** The role for a proto Role; undefined for UNSPECIFIED or an unknown number. */
export function roleFromProto(role: Role): OperatorRole | undefined {
  return (Object.keys(ROLE) as OperatorRole[]).find((r) => ROLE[r] === role);
}

export function operatorToProto(o: OperatorRecord): Operator {
  return {
    name: o.name,
    role: roleToProto(o.role),
    disabled: o.disabled,
    created: new Date(o.created),
    idpIssuer: o.idpIssuer ?? '',
    idpSubject: o.idpSubject ?? '',
    displayName: o.displayName,
    roleSource: o.roleSource,
  };
}

export function enrollmentTokenToProto(t: EnrollmentTokenView): EnrollmentToken {
  return {
    id: t.id,
    labels: { ...t.labels },
    created: new Date(t.created),
    expires: new Date(t.expires),
    used: t.used ? new Date(t.used) : undefined,
    usedByNode: t.usedByNode,
    createdBy: t.createdBy,
    revoked: t.revoked !== null,
    nodeId: t.nodeId,
  };
}

const REVEAL_STATE: Record<RevealRecordState, RevealState> = {
  pending: RevealState.REVEAL_STATE_PENDING_APPROVAL,
  approved: RevealState.REVEAL_STATE_APPROVED,
  rejected: RevealState.REVEAL_STATE_REJECTED,
  collected: RevealState.REVEAL_STATE_REVEALED,
  expired: RevealState.REVEAL_STATE_EXPIRED,
};

export function revealToProto(r: RevealRecord): Reveal {
  return {
    id: r.id,
    nodeId: r.nodeId,
    backend: r.backend,
    account: r.account,
    requestedBy: r.requestedBy,
    reason: r.reason,
    state: REVEAL_STATE[r.state],
    needsApproval: r.needsApproval,
    decidedBy: r.decidedBy,
    decisionNote: r.decisionNote,
    created: new Date(r.created),
    expires: new Date(r.expires),
    collected: date(r.collected),
  };
}

export function escrowEntryToProto(e: EscrowStatusEntry): EscrowEntry {
  return {
    nodeId: e.nodeId,
    backend: e.backend,
    account: e.account,
    setAt: date(e.setAt),
    setBy: e.setBy,
    versions: e.versions,
    lastRevealed: date(e.lastRevealed),
    nextRotation: date(e.nextRotation),
    rotationClass: e.rotationClass,
    lastRotationOutcome: e.lastRotationOutcome,
    lastRotationAt: date(e.lastRotationAt),
    rotationReason: e.rotationReason,
    inFlight: e.inFlight,
  };
}
