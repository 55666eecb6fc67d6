/**
 * The two one-shot calls to the controller's agent port besides the stream: Enroll (TLS trusting only
 * the pinned CA, no client certificate) and Renew (mutual TLS with the node's current certificate). Each
 * opens its own channel and closes it; errors come back as FleetpassErrors with the controller's code.
 */
import { credentials, Metadata, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { fromGrpcError } from '../../shared/errors';
import { AgentServiceClient, type EnrollResponse, type RenewResponse } from '../../shared/gen/fleetpass/v1/agent';

export interface CallTarget {
  address: string;
  /** The name the server certificate must carry, when it differs from the address host. */
  serverName?: string;
  timeoutMs?: number;
}

function channelOptions(t: CallTarget): ChannelOptions {
  return t.serverName ? { 'grpc.ssl_target_name_override': t.serverName, 'grpc.default_authority': t.serverName } : {};
}

function unary<Res>(
  t: CallTarget,
  creds: ChannelCredentials,
  call: (client: AgentServiceClient, deadline: Date, done: (err: unknown, res?: Res) => void) => void,
): Promise<Res> {
  const client = new AgentServiceClient(t.address, creds, channelOptions(t));
  const deadline = new Date(Date.now() + (t.timeoutMs ?? 30_000));
  return new Promise<Res>((resolve, reject) => {
    call(client, deadline, (err, res) => {
      client.close();
      if (err) reject(fromGrpcError(err));
      else resolve(res!);
    });
  });
}

/** Enroll over TLS that trusts exactly `caPem`; the token goes nowhere else. */
export function callEnroll(
  t: CallTarget,
  caPem: string,
  req: { token: string; csrPem: string; hostname: string },
): Promise<EnrollResponse> {
  return unary<EnrollResponse>(t, credentials.createSsl(Buffer.from(caPem)), (client, deadline, done) =>
    client.enroll(req, new Metadata(), { deadline }, (err, res) => done(err, res)),
  );
}

/** Renew over mutual TLS with the node's current key and certificate. */
export function callRenew(
  t: CallTarget,
  tls: { ca: Buffer; key: Buffer; cert: Buffer },
  csrPem: string,
): Promise<RenewResponse> {
  return unary<RenewResponse>(t, credentials.createSsl(tls.ca, tls.key, tls.cert), (client, deadline, done) =>
    client.renew({ csrPem }, new Metadata(), { deadline }, (err, res) => done(err, res)),
  );
}
