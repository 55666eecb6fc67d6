/**
 * TEST ONLY: hostile clients. A grpc-js client with pass-through serializers puts any bytes on the wire
 * for any fleetpass method (malformed protobuf, invalid UTF-8, unknown enum values, oversized messages),
 * over the same TLS a real client uses; `protobuf` builds such bytes field by field. `tcpSend` writes
 * raw bytes to a port without TLS or HTTP/2 at all.
 */
import { connect as netConnect } from 'node:net';
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  type ChannelCredentials,
  type ClientDuplexStream,
  type ServiceError,
} from '@grpc/grpc-js';

const passThrough = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};

const RawClient = makeGenericClientConstructor(
  {
    connect: {
      path: '/fleetpass.v1.AgentService/Connect',
      requestStream: true,
      responseStream: true,
      originalName: 'connect',
      ...passThrough,
    },
    enroll: {
      path: '/fleetpass.v1.AgentService/Enroll',
      requestStream: false,
      responseStream: false,
      originalName: 'enroll',
      ...passThrough,
    },
    requestOperations: {
      path: '/fleetpass.v1.AdminService/RequestOperations',
      requestStream: false,
      responseStream: false,
      originalName: 'requestOperations',
      ...passThrough,
    },
  },
  'Raw',
);

type Unary = (req: Buffer, md: Metadata, cb: (e: ServiceError | null, r?: Buffer) => void) => void;

export interface RawClient {
  /** Opens Connect; returns the call and what came back. */
  connect(): RawStream;
  unary(method: 'enroll' | 'requestOperations', body: Buffer, metadata?: Record<string, string>): Promise<Buffer>;
  close(): void;
}

export interface RawStream {
  call: ClientDuplexStream<Buffer, Buffer>;
  received: Buffer[];
  /** Resolves with the stream's error (undefined when it ended OK). */
  ended: Promise<ServiceError | undefined>;
}

/** mTLS client credentials from PEM strings (or TLS without a client certificate when key/cert are omitted). */
export function tlsCredentials(caPem: string, keyPem?: string, certPem?: string): ChannelCredentials {
  return keyPem && certPem
    ? credentials.createSsl(Buffer.from(caPem), Buffer.from(keyPem), Buffer.from(certPem))
    : credentials.createSsl(Buffer.from(caPem));
}

export function rawClient(
  address: string,
  creds: ChannelCredentials,
  options: Record<string, string | number> = {},
): RawClient {
  const client = new RawClient(address, creds, {
    'grpc.ssl_target_name_override': 'localhost',
    ...options,
  }) as unknown as Record<string, unknown> & { close(): void };
  return {
    connect() {
      const call = (client.connect as (md: Metadata) => ClientDuplexStream<Buffer, Buffer>).call(
        client,
        new Metadata(),
      );
      const received: Buffer[] = [];
      call.on('data', (b: Buffer) => received.push(b));
      const ended = new Promise<ServiceError | undefined>((res) => {
        call.on('error', (e: ServiceError) => res(e));
        call.on('status', (s: { code: number }) => {
          if (s.code === 0) res(undefined);
        });
      });
      return { call, received, ended };
    },
    unary(method, body, metadata = {}) {
      const md = new Metadata();
      for (const [k, v] of Object.entries(metadata)) md.set(k, v);
      return new Promise((res, rej) =>
        (client[method] as Unary).call(client, body, md, (e, r) => (e ? rej(e) : res(r!))),
      );
    },
    close: () => client.close(),
  };
}

/** Protobuf wire encoding, field by field, so a test can write what no generated encoder would. */
export const protobuf = {
  varint(n: number | bigint): Buffer {
    let v = BigInt.asUintN(64, BigInt(n));
    const out: number[] = [];
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v) b |= 0x80;
      out.push(b);
    } while (v);
    return Buffer.from(out);
  },
  /** A varint field (wire type 0). */
  int(field: number, n: number | bigint): Buffer {
    return Buffer.concat([protobuf.varint((field << 3) | 0), protobuf.varint(n)]);
  },
  /** A length-delimited field (wire type 2): bytes, a string or an embedded message. */
  bytes(field: number, body: Buffer | string): Buffer {
    const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    return Buffer.concat([protobuf.varint((field << 3) | 2), protobuf.varint(b.length), b]);
  },
};

/** Connects over plain TCP, writes `bytes`, and resolves with what came back before the server closed (or 2 s passed). */
export function tcpSend(address: string, bytes: Buffer): Promise<{ closed: boolean; reply: Buffer }> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  return new Promise((res) => {
    const chunks: Buffer[] = [];
    const s = netConnect({ host, port }, () => s.write(bytes));
    const timer = setTimeout(() => {
      s.destroy();
      res({ closed: false, reply: Buffer.concat(chunks) });
    }, 2000);
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      res({ closed: true, reply: Buffer.concat(chunks) });
    });
  });
}
