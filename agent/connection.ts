/**
 * The agent's link to the controller: a grpc-js AgentService client over mutual TLS holding one
 * bidirectional `Connect` stream. Hello goes first; then `onOpen` (state report, unsent results).
 * When the stream ends it reconnects with full-jitter exponential backoff, on a fresh channel each time
 * (so renewed TLS files are read and grpc-js's own channel backoff does not stack on ours).
 * HTTP/2 keepalive pings detect a dead peer behind a silent network.
 */
import {
  credentials,
  Metadata,
  status as grpcStatus,
  type ChannelOptions,
  type ClientDuplexStream,
} from '@grpc/grpc-js';
import type { Logger } from '../shared/logger';
import { asFleetpassError, fromGrpcError } from '../shared/errors';
import {
  AgentServiceClient,
  type ConnectRequest,
  type ConnectResponse,
  type Hello,
} from '../shared/gen/fleetpass/v1/agent';
import type { AgentConfig } from './config';
import { fullJitterDelay } from './backoff';
import { readTlsMaterial } from './tls-material';

export type LinkState = 'connecting' | 'connected' | 'backoff' | 'stopped';

export interface ConnectionHandlers {
  /** Builds the hello for a new stream (fresh busy flag). */
  hello(nodeId: string): Promise<Hello>;
  /** Called once the hello is written: send what the controller needs on connect. */
  onOpen(): void;
  onMessage(message: ConnectResponse): void;
  onState(state: LinkState, fields?: Record<string, unknown>): void;
}

export interface Connection {
  start(): void;
  /**
   * Writes a message on the open stream; false when there is none (the caller keeps it for later).
   * `onDelivered` runs once the controller has surely read it: the stream stayed up for one keepalive
   * round after the write (an HTTP/2 ping answered after our data means the peer read that data), or
   * ended cleanly after our half-close. A stream that dies first drops the callback, so the caller sends
   * the message again on the next stream (the controller dedupes).
   */
  send(message: ConnectRequest, onDelivered?: () => void): Promise<boolean>;
  /** Half-closes the stream, stops reconnecting and closes the channel. */
  stop(): Promise<void>;
}

export interface ConnectionOptions {
  readonly config: AgentConfig;
  readonly log: Logger;
  readonly handlers: ConnectionHandlers;
  readonly random?: () => number;
}

const WRITE_TIMEOUT_MS = 10_000;

/** Creates the connection; nothing happens until `start()`. */
export function createConnection(options: ConnectionOptions): Connection {
  const { config, handlers } = options;
  const log = options.log.child({ component: 'connection', address: config.controller.address });
  let stopped = false;
  let call: ClientDuplexStream<ConnectRequest, ConnectResponse> | undefined;
  // Deliveries awaiting confirmation on the current stream.
  let pending = new Map<() => void, NodeJS.Timeout>();
  let halfClosed = false;
  const confirmMs = (config.controller.keepaliveSeconds + config.controller.keepaliveTimeoutSeconds) * 1000;
  let wake: (() => void) | undefined;
  let loopDone: Promise<void> | undefined;

  function channelOptions(): ChannelOptions {
    const o: ChannelOptions = {
      'grpc.keepalive_time_ms': config.controller.keepaliveSeconds * 1000,
      'grpc.keepalive_timeout_ms': config.controller.keepaliveTimeoutSeconds * 1000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.initial_reconnect_backoff_ms': config.reconnect.initialMs,
      'grpc.max_reconnect_backoff_ms': config.reconnect.maxMs,
    };
    if (config.controller.serverName) {
      o['grpc.ssl_target_name_override'] = config.controller.serverName;
      o['grpc.default_authority'] = config.controller.serverName;
    }
    return o;
  }

  /** One stream from open to end; resolves true when the controller answered at least once. */
  async function runOnce(): Promise<boolean> {
    let client: AgentServiceClient;
    let nodeId: string;
    try {
      const tls = readTlsMaterial(config.controller);
      nodeId = tls.nodeId;
      client = new AgentServiceClient(
        config.controller.address,
        credentials.createSsl(tls.ca, tls.key, tls.cert),
        channelOptions(),
      );
    } catch (e) {
      log.error({ err: asFleetpassError(e) }, 'cannot set up the controller connection');
      return false;
    }
    let answered = false;
    try {
      const hello = await handlers.hello(nodeId);
      if (stopped) return false;
      const stream = client.connect(new Metadata());
      call = stream;
      halfClosed = false;
      const streamPending = new Map<() => void, NodeJS.Timeout>();
      pending = streamPending;
      let cleanEnd = false;
      const ended = new Promise<void>((resolve) => {
        stream.on('data', (msg: ConnectResponse) => {
          if (!answered) {
            answered = true;
            handlers.onState('connected', { nodeId });
          }
          try {
            handlers.onMessage(msg);
          } catch (e) {
            log.error({ err: e }, 'handling a controller message failed');
          }
        });
        stream.on('error', (e: Error & { code?: number; details?: string }) => {
          const level = e.code === grpcStatus.CANCELLED && stopped ? 'debug' : 'warn';
          // The controller's FP_ code (e.g. FP_NODE_REVOKED) tells the operator what to fix.
          log[level]({ grpcCode: e.code, code: fromGrpcError(e).code, details: e.details }, 'controller stream failed');
        });
        stream.on('status', (st: { code: number }) => {
          cleanEnd = st.code === grpcStatus.OK && halfClosed;
          resolve();
        });
        stream.on('close', () => resolve());
      });
      stream.write({ message: { $case: 'hello', hello } });
      handlers.onOpen();
      await ended;
      for (const [onDelivered, timer] of streamPending) {
        clearTimeout(timer);
        if (cleanEnd) onDelivered();
      }
      streamPending.clear();
      return answered;
    } finally {
      call = undefined;
      client.close();
    }
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  async function loop(): Promise<void> {
    let attempt = 0;
    while (!stopped) {
      handlers.onState('connecting');
      const answered = await runOnce();
      if (stopped) break;
      if (answered) attempt = 0;
      const delayMs = fullJitterDelay(attempt, { ...config.reconnect, random: options.random });
      attempt += 1;
      handlers.onState('backoff', { delayMs, attempt });
      await sleep(delayMs);
    }
    handlers.onState('stopped');
  }

  return {
    start() {
      if (loopDone) return;
      loopDone = loop();
    },
    send(message, onDelivered) {
      const c = call;
      const streamPending = pending;
      if (!c) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), WRITE_TIMEOUT_MS);
        try {
          c.write(message, (err?: Error | null) => {
            clearTimeout(t);
            if (!err && onDelivered && call === c) {
              const timer = setTimeout(() => {
                streamPending.delete(onDelivered);
                onDelivered();
              }, confirmMs);
              timer.unref();
              streamPending.set(onDelivered, timer);
            }
            resolve(!err);
          });
        } catch (e) {
          clearTimeout(t);
          log.warn({ err: e }, 'write to the controller stream failed');
          resolve(false);
        }
      });
    },
    async stop() {
      stopped = true;
      wake?.();
      const c = call;
      if (c) {
        // Half-close so the controller sees a clean end, then give it a moment before cancelling.
        halfClosed = true;
        c.end();
        const timer = setTimeout(() => c.cancel(), 2000);
        await loopDone;
        clearTimeout(timer);
      } else {
        await loopDone;
      }
    },
  };
}
