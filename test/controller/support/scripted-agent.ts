/**
 * TEST ONLY: a scripted AgentService client. It speaks the real protocol over real mutual TLS with a
 * node certificate, but its behaviour is written by the test (what hello says, how it answers an
 * operation), so protocol edge cases (a lying hello, a result for someone else's operation, a stream
 * replaced by a reconnect) can be driven exactly. End-to-end tests use the real agent process instead.
 */
import { credentials, Metadata, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import {
  AgentServiceClient,
  type ConnectRequest,
  type ConnectResponse,
  type Hello,
  type Operation,
} from '../../../shared/gen/fleetpass/v1/agent';
import {
  AccountState,
  Backend,
  FailureCounter,
  OperationOutcome,
  type OperationResult,
} from '../../../shared/gen/fleetpass/v1/common';
import type { NodeCredentials } from '../../helpers/controller-harness';

export interface ScriptedAgentOptions {
  address: string;
  creds: NodeCredentials;
  hello?: Partial<Hello>;
  /** Answer each operation automatically (default: succeed, account unlocked after). Return undefined to stay silent. */
  answer?: (op: Operation) => OperationResult | undefined;
  /** Start without reading from the stream (a slow node: HTTP/2 flow control pushes back on the controller). */
  paused?: boolean;
  /** Extra channel options (e.g. keepalive). */
  channelOptions?: Record<string, number | string>;
}

export interface ScriptedAgent {
  readonly received: ConnectResponse[];
  operations(): Operation[];
  send(msg: ConnectRequest): void;
  /** Resolves with the first received message (past or future) for which `pick` returns a value. */
  waitFor<T>(pick: (m: ConnectResponse) => T | undefined, timeoutMs?: number): Promise<T>;
  /** Resolves when the stream ends, with its error (undefined for OK). */
  ended(timeoutMs?: number): Promise<ServiceError | undefined>;
  close(): void;
  pause(): void;
  resume(): void;
}

export function accountState(account: string, locked: boolean, extra: Partial<AccountState> = {}): AccountState {
  return AccountState.fromPartial({
    backend: Backend.BACKEND_LINUX,
    account,
    exists: true,
    locked,
    failureCount: locked ? 3 : 0,
    denyThreshold: 3,
    counter: FailureCounter.FAILURE_COUNTER_FAILLOCK,
    observed: new Date(),
    ...extra,
  });
}

export function succeed(op: Operation): OperationResult {
  return {
    operationId: op.id,
    outcome: OperationOutcome.OPERATION_OUTCOME_SUCCEEDED,
    errorCode: '',
    message: '',
    before: accountState(op.account, true),
    after: accountState(op.account, false),
    started: new Date(),
    finished: new Date(),
    replayed: false,
    failedStep: '',
    notes: [],
  };
}

/** Opens a Connect stream and (unless hello.nodeId is set otherwise) says hello as the certificate's node. */
export function connectScriptedAgent(o: ScriptedAgentOptions): ScriptedAgent {
  const client = new AgentServiceClient(
    o.address,
    credentials.createSsl(Buffer.from(o.creds.caPem), Buffer.from(o.creds.keyPem), Buffer.from(o.creds.certPem)),
    {
      'grpc.ssl_target_name_override': 'localhost',
      ...o.channelOptions,
    },
  );
  const call: ClientDuplexStream<ConnectRequest, ConnectResponse> = client.connect(new Metadata());
  const received: ConnectResponse[] = [];
  let endErr: ServiceError | undefined;
  let isEnded = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  const answer = o.answer ?? succeed;
  call.on('data', (m: ConnectResponse) => {
    received.push(m);
    if (m.message?.$case === 'operation') {
      const r = answer(m.message.operation);
      if (r) call.write({ message: { $case: 'result', result: r } });
    }
    wake();
  });
  call.on('error', (e: ServiceError) => {
    endErr = e;
    isEnded = true;
    wake();
  });
  call.on('status', () => {
    isEnded = true;
    wake();
  });
  call.on('end', () => {
    isEnded = true;
    wake();
  });
  if (o.paused) call.pause();
  call.write({
    message: {
      $case: 'hello',
      hello: {
        nodeId: o.creds.nodeId,
        hostname: `${o.creds.nodeId}.lab`,
        platform: 'nextseq-2000',
        agentVersion: 'test',
        labels: { site: 'test' },
        backends: [Backend.BACKEND_LINUX],
        policy: [],
        busy: false,
        ...o.hello,
      },
    },
  });

  function until<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((res, rej) => {
      const done = () => {
        const v = check();
        if (v !== undefined) {
          waiters.delete(done);
          clearTimeout(timer);
          res(v);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(done);
        rej(
          new Error(
            `timed out waiting for ${what}; received ${received.map((m) => m.message?.$case).join(',')}; error ${endErr?.message ?? 'none'}`,
          ),
        );
      }, timeoutMs);
      waiters.add(done);
      done();
    });
  }

  return {
    received,
    operations: () => received.flatMap((m) => (m.message?.$case === 'operation' ? [m.message.operation] : [])),
    send: (msg) => void call.write(msg),
    waitFor: (pick, timeoutMs = 5000) =>
      until(
        () => {
          for (const m of received) {
            const v = pick(m);
            if (v !== undefined) return v;
          }
          return undefined;
        },
        timeoutMs,
        'a message',
      ),
    ended: (timeoutMs = 5000) =>
      until(() => (isEnded ? { e: endErr } : undefined), timeoutMs, 'the stream to end').then((x) => x.e),
    close() {
      call.cancel();
      client.close();
    },
    pause: () => void call.pause(),
    resume: () => void call.resume(),
  };
}
