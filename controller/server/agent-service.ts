/**
 * The AgentService implementation: Connect (one long-lived stream per node, see connect-handler) and
 * Enroll/Renew, which answer UNIMPLEMENTED until enrollment (issue 7) supplies handlers.
 */
import { status, type handleUnaryCall } from '@grpc/grpc-js';
import {
  AgentServiceService,
  type AgentServiceServer,
  type EnrollRequest,
  type EnrollResponse,
  type RenewRequest,
  type RenewResponse,
} from '../../shared/gen/fleetpass/v1/agent';
import { handleConnect, type ConnectDeps } from './connect-handler';
import type { ServiceRegistration } from './grpc-server';

export interface AgentServiceDeps extends ConnectDeps {
  enroll?: handleUnaryCall<EnrollRequest, EnrollResponse>;
  renew?: handleUnaryCall<RenewRequest, RenewResponse>;
}

function notYet<Req, Res>(): handleUnaryCall<Req, Res> {
  return (_call, callback) =>
    callback({ code: status.UNIMPLEMENTED, details: 'enrollment is not available on this controller' });
}

/** The service registration for the agent port. */
export function agentServiceRegistration(deps: AgentServiceDeps): ServiceRegistration {
  const implementation: AgentServiceServer = {
    connect: (call) => handleConnect(deps, call),
    enroll: deps.enroll ?? notYet(),
    renew: deps.renew ?? notYet(),
  };
  return { definition: AgentServiceService, implementation };
}
