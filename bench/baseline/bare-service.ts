/**
 * BENCHMARK ONLY: the baseline the fleetpass figures are divided by: a bare grpc-js bidirectional
 * streaming service with no fleetpass code in it. Messages are opaque byte buffers (no protobuf
 * encoding), sized like fleetpass's own messages; transport, TLS and keepalive settings are the same.
 */
import { makeGenericClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';

const passThrough = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};

/** One bidirectional method: /bench.Bare/Chat. */
export const BARE_SERVICE: ServiceDefinition = {
  chat: { path: '/bench.Bare/Chat', requestStream: true, responseStream: true, originalName: 'chat', ...passThrough },
};

export const BareClient = makeGenericClientConstructor(BARE_SERVICE, 'Bare');

/** Server keepalive as the controller sets it by default (controller/config keepalive). */
export const SERVER_KEEPALIVE = { 'grpc.keepalive_time_ms': 20_000, 'grpc.keepalive_timeout_ms': 10_000 };

/** Client keepalive as the agent sets it by default (agent/connection.ts, agent/config). */
export const CLIENT_KEEPALIVE = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
};

/** First byte of a payload: what it is. */
export const KIND = { hello: 1, welcome: 2, operation: 3, result: 4 } as const;

/** A payload of `size` bytes whose first byte says what it is. */
export function payload(kind: number, size: number): Buffer {
  const b = Buffer.alloc(Math.max(1, size), 0x61);
  b[0] = kind;
  return b;
}
