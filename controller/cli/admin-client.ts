/**
 * A small promise wrapper around the generated AdminServiceClient: TLS trusting the controller CA,
 * the operator token as call metadata (or an operator client certificate), a deadline on every unary
 * call, and errors as FleetpassError.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { AdminServiceClient } from '../../shared/gen/fleetpass/v1/admin';
import { FleetpassError, fromGrpcError } from '../../shared/errors';
import { readToken, type CliConfig } from './cli-config';

/** The full (last) overload of a generated unary client method. */
type UnaryMethod<Req, Res> = (
  req: Req,
  md: grpc.Metadata,
  opts: Partial<grpc.CallOptions>,
  cb: (e: grpc.ServiceError | null, r: Res) => void,
) => grpc.ClientUnaryCall;
type ServerStreamMethod<Req, Res> = (
  req: Req,
  md?: grpc.Metadata,
  opts?: Partial<grpc.CallOptions>,
) => grpc.ClientReadableStream<Res>;

export interface AdminApi {
  readonly client: AdminServiceClient;
  /** Calls one unary method, e.g. `api.call(api.client.listNodes, {})`. */
  call<Req, Res>(method: UnaryMethod<Req, Res>, req: Req): Promise<Res>;
  /** Opens a server stream, e.g. `api.stream(api.client.watchChangeRequest, { id })`, and yields its messages. */
  stream<Req, Res>(method: ServerStreamMethod<Req, Res>, req: Req): AsyncIterable<Res>;
  close(): void;
}

/** Connects to the admin API described by `config`; nothing is sent until the first call. */
export function createAdminApi(config: CliConfig, opts: { anonymous?: boolean } = {}): AdminApi {
  let ca: Buffer;
  try {
    ca = readFileSync(config.caFile);
  } catch (e) {
    throw new FleetpassError(
      'FP_TLS_MATERIAL',
      `cannot read the controller CA certificate ${config.caFile}; set caFile in the CLI config`,
      { cause: e },
    );
  }
  // `fleetpass login` has no credential yet.
  const token = opts.anonymous ? undefined : readToken(config);
  const host = config.controller.replace(/:\d+$/, '');
  const options: grpc.ClientOptions = {};
  // Certificates name hosts; an IP target is checked against the name the controller's certificate carries.
  const serverName = config.serverName ?? (/^[\d.]+$|^\[/.test(host) ? 'localhost' : undefined);
  if (serverName) options['grpc.ssl_target_name_override'] = serverName;
  let creds: grpc.ChannelCredentials;
  if (config.certFile && config.keyFile && !token && !opts.anonymous) {
    let key: Buffer;
    let cert: Buffer;
    try {
      key = readFileSync(config.keyFile);
      cert = readFileSync(config.certFile);
    } catch (e) {
      throw new FleetpassError(
        'FP_TLS_MATERIAL',
        `cannot read the operator certificate ${config.certFile} or its key ${config.keyFile}`,
        { cause: e },
      );
    }
    creds = grpc.credentials.createSsl(ca, key, cert);
  } else {
    creds = grpc.credentials.createSsl(ca);
  }
  const client = new AdminServiceClient(config.controller, creds, options);
  const metadata = () => {
    const md = new grpc.Metadata();
    if (token) md.set('authorization', `Bearer ${token}`);
    return md;
  };

  return {
    client,
    call<Req, Res>(method: UnaryMethod<Req, Res>, req: Req): Promise<Res> {
      return new Promise((resolve, reject) => {
        method.call(client, req, metadata(), { deadline: Date.now() + config.timeoutSeconds * 1000 }, (err, res) =>
          err ? reject(fromGrpcError(err)) : resolve(res),
        );
      });
    },
    stream<Req, Res>(method: ServerStreamMethod<Req, Res>, req: Req): AsyncIterable<Res> {
      const call = method.call(client, req, metadata());
      return {
        async *[Symbol.asyncIterator]() {
          try {
            for await (const msg of call as AsyncIterable<Res>) yield msg;
          } catch (e) {
            throw fromGrpcError(e);
          } finally {
            // A reader that stops early (break) cancels the call, so the server stops sending.
            call.cancel();
          }
        },
      };
    },
    close: () => client.close(),
  };
}
