/**
 * BENCHMARK ONLY: the bare grpc-js server baseline, in its own process. Mutual TLS with the same server
 * certificate and CA as the controller, the controller's keepalive and message-size settings, one
 * bidirectional stream per client. A client's first message gets one answer (as a hello gets a
 * welcome); `broadcast` writes one message on every stream and times until every stream answered.
 * Run: node bare-server.js '<json {pkiDir}>' (with --expose-gc for memory figures).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { writeHeapSnapshot } from 'node:v8';
import { serveIpc } from '../lib/ipc';
import { BARE_SERVICE, KIND, SERVER_KEEPALIVE, payload } from './bare-service';

type Stream = ServerDuplexStream<Buffer, Buffer>;

async function main(): Promise<void> {
  const { pkiDir, welcomeBytes } = JSON.parse(process.argv[2]) as { pkiDir: string; welcomeBytes: number };
  const streams = new Set<Stream>();
  let round: { waiting: Set<Stream>; done: () => void } | undefined;
  const server = new Server({
    ...SERVER_KEEPALIVE,
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
    'grpc.max_send_message_length': 4 * 1024 * 1024,
  });
  server.addService(BARE_SERVICE, {
    chat(call: Stream) {
      call.on('data', (m: Buffer) => {
        if (m[0] === KIND.hello) {
          streams.add(call);
          call.write(payload(KIND.welcome, welcomeBytes));
        } else if (round?.waiting.delete(call) && round.waiting.size === 0) {
          round.done();
        }
      });
      const gone = () => {
        streams.delete(call);
        if (round?.waiting.delete(call) && round.waiting.size === 0) round.done();
      };
      call.on('end', () => {
        gone();
        call.end();
      });
      call.on('cancelled', gone);
      call.on('error', gone);
    },
  });
  const creds = ServerCredentials.createSsl(
    readFileSync(join(pkiDir, 'ca.crt')),
    [{ cert_chain: readFileSync(join(pkiDir, 'server.crt')), private_key: readFileSync(join(pkiDir, 'server.key')) }],
    true,
  );
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? rej(e) : res(p))),
  );
  const gc = (globalThis as { gc?: () => void }).gc;

  serveIpc(
    {
      status: () => ({ streams: streams.size, memory: process.memoryUsage() }),
      /** Diagnostic: writes a V8 heap snapshot to `file` (to see what a node costs). */
      heapSnapshot: (b) => ({ file: writeHeapSnapshot(String(b.file)) }),
      gc: async () => {
        if (!gc) throw new Error('start with --expose-gc');
        for (let i = 0; i < 3; i++) {
          gc();
          await new Promise((r) => setImmediate(r));
        }
        return process.memoryUsage();
      },
      /** One message of `bytes` on every stream; resolves with the ms until every stream answered. */
      broadcast: (b) =>
        new Promise((res) => {
          const t0 = process.hrtime.bigint();
          const waiting = new Set(streams);
          round = {
            waiting,
            done: () => res({ ms: Number(process.hrtime.bigint() - t0) / 1e6, streams: streams.size }),
          };
          const msg = payload(KIND.operation, Number(b.bytes));
          for (const s of waiting) s.write(msg);
        }),
      /** `count` round trips one after another on one stream; resolves with each one's ms. */
      pingPong: async (b) => {
        const s = streams.values().next().value as Stream;
        const msg = payload(KIND.operation, Number(b.bytes));
        const samples: number[] = [];
        for (let i = 0; i < Number(b.count); i++) {
          const t0 = process.hrtime.bigint();
          await new Promise<void>((done) => {
            round = { waiting: new Set([s]), done };
            s.write(msg);
          });
          samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
        return { samples };
      },
      shutdown: () => {
        server.forceShutdown();
        setImmediate(() => process.exit(0));
        return {};
      },
    },
    { address: `127.0.0.1:${port}`, pid: process.pid },
  );
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
