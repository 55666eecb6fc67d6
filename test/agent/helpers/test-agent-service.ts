/**
 * TEST ONLY: a real grpc-js server on 127.0.0.1 built from the generated AgentServiceService, with mutual
 * TLS from shared/pki. It plays the controller's side of `Connect` just enough to test the agent: records
 * every message per stream (with the node id from the peer certificate), sends a welcome, and lets the
 * test push operations and refresh requests. `stop()` + `startTestAgentService({port})` restarts it on the same port.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { nodeIdFromPeerCertificate, type TestPkiFiles } from '../../../shared/pki';
import {
  AgentServiceService,
  type ConnectRequest,
  type ConnectResponse,
  type Welcome,
} from '../../../shared/gen/fleetpass/v1/agent';
import { FleetpassError, toGrpcError, type ErrorCode } from '../../../shared/errors';
import { waitUntil } from '../../helpers/wait-until';

export interface TestStream {
  readonly nodeId: string | undefined;
  readonly received: ConnectRequest[];
  ended: boolean;
  send(message: ConnectResponse): void;
}

export interface TestAgentService {
  readonly port: number;
  readonly address: string;
  readonly streams: TestStream[];
  /** Every message received on every stream, in order. */
  messages(): ConnectRequest[];
  /** Waits for the `nth` (default 1st) message matching `pred` (on any stream), counting after the `after`-th message. */
  waitFor<T>(
    pred: (m: ConnectRequest) => T | undefined | false,
    options?: { timeoutMs?: number; after?: number; nth?: number },
  ): Promise<T>;
  /** The most recent open stream (waits for one). */
  latest(timeoutMs?: number): Promise<TestStream>;
  /** Kills every stream and the server at once, as a crash would. */
  stop(): Promise<void>;
}

export interface TestAgentServiceOptions {
  pki: TestPkiFiles;
  port?: number;
  /** The welcome sent after each hello; false sends none. */
  welcome?: Partial<Welcome> | false;
  /** Refuse every stream with this error, as the controller does for a revoked node. */
  refuseWith?: ErrorCode;
}

/** Starts the test AgentService on 127.0.0.1 (port 0 = any free port). */
export async function startTestAgentService(options: TestAgentServiceOptions): Promise<TestAgentService> {
  const streams: TestStream[] = [];
  const all: ConnectRequest[] = [];
  const server = new grpc.Server();
  server.addService(AgentServiceService, {
    connect(call: grpc.ServerDuplexStream<ConnectRequest, ConnectResponse>) {
      const nodeId = nodeIdFromPeerCertificate(call.getAuthContext().sslPeerCertificate);
      const stream: TestStream = {
        nodeId,
        received: [],
        ended: false,
        send: (m) => {
          if (!stream.ended) call.write(m);
        },
      };
      streams.push(stream);
      if (options.refuseWith) {
        stream.ended = true;
        call.emit('error', toGrpcError(new FleetpassError(options.refuseWith)));
        return;
      }
      call.on('data', (m: ConnectRequest) => {
        stream.received.push(m);
        all.push(m);
        if (m.message?.$case === 'hello' && options.welcome !== false) {
          stream.send({
            message: {
              $case: 'welcome',
              welcome: { nodeId: nodeId ?? '', heartbeatSeconds: 0, reportIntervalSeconds: 0, ...options.welcome },
            },
          });
        }
      });
      call.on('end', () => {
        stream.ended = true;
        call.end();
      });
      call.on('error', () => (stream.ended = true));
      call.on('cancelled', () => (stream.ended = true));
    },
    enroll: (_call: unknown, cb: grpc.sendUnaryData<never>) => cb({ code: grpc.status.UNIMPLEMENTED }),
    renew: (_call: unknown, cb: grpc.sendUnaryData<never>) => cb({ code: grpc.status.UNIMPLEMENTED }),
  });
  const creds = grpc.ServerCredentials.createSsl(
    readFileSync(options.pki.caFile),
    [{ cert_chain: readFileSync(options.pki.serverCertFile), private_key: readFileSync(options.pki.serverKeyFile) }],
    true,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, creds, (err, p) => (err ? reject(err) : resolve(p))),
  );

  return {
    port,
    address: `127.0.0.1:${port}`,
    streams,
    messages: () => [...all],
    async waitFor(pred, o = {}) {
      let found: unknown;
      await waitUntil(
        () => {
          let n = 0;
          for (const m of all.slice(o.after ?? 0)) {
            const r = pred(m);
            if (r && ++n === (o.nth ?? 1)) {
              found = r;
              return true;
            }
          }
          return false;
        },
        o.timeoutMs ?? 5000,
        'a matching agent message',
      );
      return found as never;
    },
    async latest(timeoutMs = 5000) {
      await waitUntil(() => streams.some((s) => !s.ended), timeoutMs, 'an open agent stream');
      return [...streams].reverse().find((s) => !s.ended)!;
    },
    async stop() {
      for (const s of streams) s.ended = true;
      server.forceShutdown();
    },
  };
}
