/**
 * AdminService over gRPC: thin handlers that authenticate the call, map the proto request to a
 * service-layer call and its result back, and turn errors into gRPC status with toGrpcError. No rule
 * lives here. WatchChangeRequest is a server stream fed by the controller's events; ExportAudit streams
 * CSV or JSON Lines chunks with backpressure. Nothing here logs a request or a response.
 */
import type {
  handleServerStreamingCall,
  handleUnaryCall,
  sendUnaryData,
  ServerUnaryCall,
  ServerWritableStream,
} from '@grpc/grpc-js';
import { FleetpassError, toGrpcError } from '../../shared/errors';
import {
  AdminServiceService,
  ChangeRequestState,
  ExportFormat,
  OperationState,
  PasswordSource,
  RevealState,
  type AdminServiceServer,
  type AuditFilter as ProtoAuditFilter,
  type ChangeRequest,
  type NodeSelector,
  type OperationSummary,
  type RevealPasswordResponse,
} from '../../shared/gen/fleetpass/v1/admin';
import type { Logger } from '../../shared/logger';
import type { AuditFilter } from '../audit';
import type { ServiceRegistration } from '../server/grpc-server';
import type { RevealResult } from '../escrow';
import type { Credentials, PasswordChoice, Principal, RequestOperationsResult, Service } from '../service';
import type { ChangeRequestState as StoreCrState, ChangeRequestView, NodeRecord, NodeSelection } from '../store';
import {
  auditRecordToProto,
  changeRequestStateFromProto,
  changeRequestToProto,
  enrollmentTokenToProto,
  escrowEntryToProto,
  nodeToProto,
  operationToProto,
  operatorToProto,
  revealToProto,
  roleFromProto,
} from './proto-mappers';

type AnyCall = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;

function credentialsOf(call: AnyCall, what: string): Credentials {
  const auth = call.metadata.get('authorization')[0];
  return {
    authorization: typeof auth === 'string' ? auth : undefined,
    peerCertificate: call.getAuthContext().sslPeerCertificate,
    source: call.getPeer(),
    what,
  };
}

function selection(s: NodeSelector | undefined): NodeSelection {
  return {
    nodeIds: s?.nodeIds ?? [],
    labels: s?.labels ?? {},
    all: s?.all ?? false,
    lockedOnly: s?.lockedOnly ?? false,
  };
}

function auditFilter(f: ProtoAuditFilter | undefined): AuditFilter {
  return {
    nodeId: f?.nodeId || undefined,
    account: f?.account || undefined,
    actor: f?.actor || undefined,
    action: f?.action || undefined,
    outcome: f?.outcome || undefined,
    requestId: f?.requestId || undefined,
    since: f?.since,
    until: f?.until,
  };
}

function passwordChoice(source: PasswordSource, password: string): PasswordChoice | undefined {
  if (source === PasswordSource.PASSWORD_SOURCE_GENERATE) {
    if (password) throw new FleetpassError('FP_INVALID_ARGUMENT', 'a generated password cannot come with a password');
    return { source: 'generate' };
  }
  if (source === PasswordSource.PASSWORD_SOURCE_PROVIDED) return { source: 'provided', password };
  if (password)
    throw new FleetpassError('FP_INVALID_ARGUMENT', 'set the password source to PROVIDED to supply a password');
  return undefined;
}

/** The response for a request: the recorded one, or (dry run) a preview with no ids. */
function planToProto(
  r: RequestOperationsResult,
  req: { backend: number; account: string; action: number; reason: string },
): { request: ChangeRequest; operations: OperationSummary[] } {
  const byId = new Map(r.nodes.map((n) => [n.id, n]));
  if (r.request) {
    return {
      request: changeRequestToProto(r.request.request, r.request.counts),
      operations: r.request.operations.map((o) => operationToProto(o, byId.get(o.nodeId))),
    };
  }
  const state = r.needsApproval ? OperationState.OPERATION_STATE_REQUESTED : OperationState.OPERATION_STATE_APPROVED;
  return {
    request: {
      id: '',
      requestedBy: '',
      reason: req.reason,
      backend: req.backend,
      account: req.account,
      action: req.action,
      state: r.needsApproval
        ? ChangeRequestState.CHANGE_REQUEST_STATE_PENDING_APPROVAL
        : ChangeRequestState.CHANGE_REQUEST_STATE_APPROVED,
      needsApproval: r.needsApproval,
      approvedBy: '',
      rejectedBy: '',
      created: undefined,
      expires: undefined,
      nodeCount: r.nodes.length,
      counts: {},
      privileged: r.privileged,
      decisionNote: '',
    },
    operations: r.nodes.map((n: NodeRecord) => ({
      id: '',
      requestId: '',
      nodeId: n.id,
      hostname: n.hostname,
      backend: req.backend,
      account: req.account,
      action: req.action,
      state,
      errorCode: '',
      message: '',
      updated: undefined,
      before: undefined,
      after: undefined,
      notes: [],
      failedStep: '',
      nodeOnline: n.online,
      expires: undefined,
    })),
  };
}

function revealAnswerToProto(r: RevealResult): RevealPasswordResponse {
  if (r.state === 'pending')
    return {
      state: RevealState.REVEAL_STATE_PENDING_APPROVAL,
      revealId: r.reveal.id,
      password: '',
      rotateAfter: undefined,
    };
  return {
    state: RevealState.REVEAL_STATE_REVEALED,
    revealId: r.reveal.id,
    password: r.password,
    rotateAfter: r.rotateAfter,
  };
}

export interface AdminGrpcDeps {
  service: Service;
  log: Logger;
  /** Open server streams, so shutdown can end them. */
  streams: Set<{ end(reason: FleetpassError): void }>;
}

/** The service registration for the admin port. */
export function adminServiceRegistration(deps: AdminGrpcDeps): ServiceRegistration {
  const { service: admin, log } = deps;

  /** A unary handler: authenticate, run, answer; errors become gRPC status. */
  function unary<Req, Res>(
    what: string,
    fn: (p: Principal, req: Req) => Res | Promise<Res>,
  ): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      let p: Principal;
      try {
        p = admin.authenticate(credentialsOf(call as AnyCall, what));
      } catch (e) {
        callback(toGrpcError(e, log));
        return;
      }
      Promise.resolve()
        .then(() => fn(p, call.request))
        .then(
          (res) => callback(null, res),
          (e: unknown) => callback(toGrpcError(e, log)),
        );
    };
  }

  /** A handler for calls that carry no credential yet (`fleetpass login`); the service layer audits them. */
  function anonymous<Req, Res>(fn: (source: string, req: Req) => Promise<Res>): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      Promise.resolve()
        .then(() => fn(call.getPeer(), call.request))
        .then(
          (res) => callback(null, res),
          (e: unknown) => callback(toGrpcError(e, log)),
        );
    };
  }

  function nodeOf(p: Principal, id: string) {
    return admin.getNode(p, id);
  }

  const watchChangeRequest: handleServerStreamingCall<{ id: string }, unknown> = (call) => {
    let p: Principal;
    try {
      p = admin.authenticate(credentialsOf(call as AnyCall, 'WatchChangeRequest'));
    } catch (e) {
      call.emit('error', toGrpcError(e, log));
      return;
    }
    let closed = false;
    let unsubscribe: () => void = () => undefined;
    const entry = {
      end(reason: FleetpassError) {
        if (closed) return;
        closed = true;
        unsubscribe();
        deps.streams.delete(entry);
        call.emit('error', toGrpcError(reason, log));
      },
    };
    const finish = () => {
      closed = true;
      unsubscribe();
      deps.streams.delete(entry);
    };
    call.on('cancelled', finish);
    deps.streams.add(entry);
    try {
      const un = admin.watchChangeRequest(p, call.request.id, (u) => {
        if (closed) return;
        call.write({
          request: changeRequestToProto(u.request, u.counts),
          operation: u.operation ? operationToProto(u.operation, nodeOf(p, u.operation.nodeId)) : undefined,
          done: u.done,
        });
        if (u.done) {
          finish();
          call.end();
        }
      });
      if (closed) un();
      else unsubscribe = un;
    } catch (e) {
      finish();
      call.emit('error', toGrpcError(e, log));
    }
  };

  const exportAudit: handleServerStreamingCall<
    { filter: ProtoAuditFilter | undefined; format: ExportFormat },
    unknown
  > = (call) => {
    let p: Principal;
    try {
      p = admin.authenticate(credentialsOf(call as AnyCall, 'ExportAudit'));
    } catch (e) {
      call.emit('error', toGrpcError(e, log));
      return;
    }
    let cancelled = false;
    call.on('cancelled', () => (cancelled = true));
    void (async () => {
      try {
        const format =
          call.request.format === ExportFormat.EXPORT_FORMAT_CSV
            ? 'csv'
            : call.request.format === ExportFormat.EXPORT_FORMAT_JSONL
              ? 'jsonl'
              : undefined;
        if (!format) throw new FleetpassError('FP_INVALID_ARGUMENT', 'choose the export format: csv or jsonl');
        for (const chunk of admin.exportAudit(p, { filter: auditFilter(call.request.filter), format })) {
          if (cancelled) return;
          if (!call.write({ chunk: Buffer.from(chunk, 'utf8') })) await new Promise((res) => call.once('drain', res));
        }
        call.end();
      } catch (e) {
        call.emit('error', toGrpcError(e, log));
      }
    })();
  };

  const implementation: AdminServiceServer = {
    whoAmI: unary('WhoAmI', (p) => ({
      operator: operatorToProto(admin.whoAmI(p)),
      via: p.via,
      tokenKind: admin.tokenKindOf(p),
      provider: admin.whoAmI(p).idpSubject ? (admin.signInOptions().provider ?? '') : '',
    })),
    startLogin: anonymous(async (source) => {
      const d = await admin.beginDeviceLogin(source);
      return {
        loginId: d.id,
        userCode: d.userCode,
        verificationUri: d.verificationUri,
        verificationUriComplete: d.verificationUriComplete,
        expiresInSeconds: d.expiresInSeconds,
        intervalSeconds: d.intervalSeconds,
        provider: admin.signInOptions().provider ?? '',
      };
    }),
    finishLogin: anonymous(async (source, req: { loginId: string }) => {
      const r = await admin.finishDeviceLogin(req.loginId, source, 20_000);
      if (r === 'pending') return { pending: true, token: '', expires: undefined, operator: undefined };
      return {
        pending: false,
        token: r.token,
        expires: r.expires,
        operator: operatorToProto(admin.whoAmI(r.principal)),
      };
    }),
    logout: unary('Logout', (p) => admin.logout(p)),
    listNodes: unary('ListNodes', (p, req) => ({
      nodes: admin.listNodes(p, selection(req.selector)).map((n) => nodeToProto(n, n.lockedAccounts)),
    })),
    listAccounts: unary('ListAccounts', (p, req) => ({
      accounts: admin
        .listAccounts(p, {
          selection: selection(req.selector),
          account: req.account || undefined,
          backend: req.backend || undefined,
          lockedOnly: req.lockedOnly,
        })
        .map((a) => ({
          nodeId: a.node.id,
          hostname: a.node.hostname,
          nodeOnline: a.node.online,
          state: a.account.state,
          privileged: a.privileged,
        })),
    })),
    revokeNode: unary('RevokeNode', (p, req) => ({
      node: nodeToProto(admin.revokeNode(p, { nodeId: req.nodeId, reason: req.reason })),
    })),
    setNodeLabels: unary('SetNodeLabels', (p, req) => ({
      node: nodeToProto(admin.setNodeLabels(p, { nodeId: req.nodeId, labels: req.labels, reason: req.reason })),
    })),
    requestOperations: unary('RequestOperations', async (p, req) => {
      const result = await admin.requestOperations(p, {
        selection: selection(req.selector),
        backend: req.backend,
        account: req.account,
        action: req.action,
        password: passwordChoice(req.passwordSource, req.password),
        reason: req.reason,
        dryRun: req.dryRun,
        ttlSeconds: req.ttlSeconds,
        temporary: req.temporary,
        samePasswordOnAllNodes: req.samePasswordOnAllNodes,
      });
      return {
        ...planToProto(result, req),
        generatedPasswords: result.generatedPasswords,
        dryRun: result.dryRun,
        warnings: result.warnings,
      };
    }),
    listChangeRequests: unary('ListChangeRequests', (p, req) => {
      const states = req.states.map(changeRequestStateFromProto).filter((s): s is StoreCrState => !!s);
      if (states.length !== req.states.length)
        throw new FleetpassError('FP_INVALID_ARGUMENT', 'unknown change request state in the filter');
      return {
        requests: admin
          .listChangeRequests(p, { states, limit: req.limit || undefined })
          .map((v: ChangeRequestView) => changeRequestToProto(v.request, v.counts)),
      };
    }),
    getChangeRequest: unary('GetChangeRequest', (p, req) => {
      const v = admin.getChangeRequest(p, req.id);
      return {
        request: changeRequestToProto(v.request, v.counts),
        operations: v.operations.map((o) => operationToProto(o, nodeOf(p, o.nodeId))),
      };
    }),
    approveChangeRequest: unary('ApproveChangeRequest', async (p, req) => {
      const v = await admin.approveChangeRequest(p, req.id, req.note);
      return { request: changeRequestToProto(v.request, v.counts) };
    }),
    rejectChangeRequest: unary('RejectChangeRequest', (p, req) => {
      const v = admin.rejectChangeRequest(p, req.id, req.note);
      return { request: changeRequestToProto(v.request, v.counts) };
    }),
    cancelChangeRequest: unary('CancelChangeRequest', (p, req) => {
      const v = admin.cancelChangeRequest(p, req.id, req.note);
      return { request: changeRequestToProto(v.request, v.counts) };
    }),
    watchChangeRequest: watchChangeRequest as AdminServiceServer['watchChangeRequest'],
    queryAudit: unary('QueryAudit', (p, req) => {
      const page = admin.queryAudit(p, {
        filter: auditFilter(req.filter),
        limit: req.limit || undefined,
        afterSeq: Number(req.afterSeq) || undefined,
        beforeSeq: Number(req.beforeSeq) || undefined,
        descending: req.descending,
      });
      return { records: page.records.map(auditRecordToProto), nextCursor: page.nextCursor };
    }),
    exportAudit: exportAudit as AdminServiceServer['exportAudit'],
    verifyAudit: unary('VerifyAudit', (p) => {
      const r = admin.verifyAudit(p);
      return {
        ok: r.ok,
        total: r.total,
        verifiedThrough: r.verifiedThrough,
        brokenAt: r.brokenAt,
        problem: r.problem,
        headHash: r.headHash,
      };
    }),
    createEnrollmentToken: unary('CreateEnrollmentToken', (p, req) => {
      const t = admin.createEnrollmentToken(p, { labels: req.labels, ttlSeconds: req.ttlSeconds, nodeId: req.nodeId });
      return { token: enrollmentTokenToProto(t.token), secret: t.secret, caFingerprint: t.caFingerprint };
    }),
    listEnrollmentTokens: unary('ListEnrollmentTokens', (p) => ({
      tokens: admin.listEnrollmentTokens(p).map(enrollmentTokenToProto),
    })),
    revokeEnrollmentToken: unary('RevokeEnrollmentToken', (p, req) => ({
      token: enrollmentTokenToProto(admin.revokeEnrollmentToken(p, req.id)),
    })),
    createOperator: unary('CreateOperator', (p, req) => {
      const role = roleFromProto(req.role);
      if (!role) throw new FleetpassError('FP_INVALID_ARGUMENT', 'choose a role: viewer, operator, approver or admin');
      return { operator: operatorToProto(admin.createOperator(p, { name: req.name, role })) };
    }),
    listOperators: unary('ListOperators', (p) => ({ operators: admin.listOperators(p).map(operatorToProto) })),
    disableOperator: unary('DisableOperator', (p, req) => ({
      operator: operatorToProto(admin.disableOperator(p, req.name)),
    })),
    createApiToken: unary('CreateApiToken', (p, req) => {
      const t = admin.createApiToken(p, { operator: req.operator, ttlSeconds: req.ttlSeconds });
      return { token: t.token, expires: t.expires ?? undefined };
    }),
    revealPassword: unary('RevealPassword', (p, req) =>
      revealAnswerToProto(
        req.revealId
          ? admin.revealPassword(p, { revealId: req.revealId })
          : admin.revealPassword(p, {
              nodeId: req.nodeId,
              backend: req.backend,
              account: req.account,
              reason: req.reason,
            }),
      ),
    ),
    rotatePasswords: unary('RotatePasswords', async (p, req) => {
      const r = await admin.rotatePasswords(p, {
        selection: { ...selection(req.selector), lockedOnly: false },
        backend: req.backend,
        account: req.account,
        reason: req.reason,
      });
      if (!r.request) return { request: undefined, operations: [] };
      return {
        request: changeRequestToProto(r.request.request, r.request.counts),
        operations: r.request.operations.map((o) => operationToProto(o, nodeOf(p, o.nodeId))),
      };
    }),
    escrowStatus: unary('EscrowStatus', (p, req) => ({
      entries: admin
        .escrowStatus(p, req.selector ? { ...selection(req.selector), lockedOnly: false } : undefined)
        .map(escrowEntryToProto),
    })),
    listReveals: unary('ListReveals', (p, req) => ({
      reveals: admin.listReveals(p, { openOnly: req.openOnly }).map(revealToProto),
    })),
    decideReveal: unary('DecideReveal', (p, req) => ({
      reveal: revealToProto(admin.decideReveal(p, { revealId: req.revealId, approve: req.approve, note: req.note })),
    })),
  };
  return { definition: AdminServiceService, implementation };
}
