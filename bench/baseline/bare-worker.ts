/**
 * BENCHMARK ONLY: bare grpc-js clients, the baseline of the fleet simulator: per simulated node one
 * channel over mutual TLS with that node's certificate (so one TCP+TLS connection each, as agents
 * have), one bidirectional stream, a hello-sized first message, and an answer of result size to every
 * message the server sends. Driven over IPC: start, stats, stop.
 */
import { readFileSync } from 'node:fs';
import { credentials, Metadata, type ClientDuplexStream } from '@grpc/grpc-js';
import { serveIpc } from '../lib/ipc';
import { benchPki, nodeCertificates, nodeId } from '../lib/pki-cache';
import { BareClient, CLIENT_KEEPALIVE, KIND, payload } from './bare-service';

interface Peer {
  client: InstanceType<typeof BareClient>;
  call: ClientDuplexStream<Buffer, Buffer>;
  welcomed: boolean;
}

const peers: Peer[] = [];

async function start(o: {
  address: string;
  first: number;
  count: number;
  helloBytes: number;
  resultBytes: number;
  rampConcurrency: number;
}): Promise<{ ms: number }> {
  const t0 = Date.now();
  const pki = await benchPki();
  const ca = readFileSync(pki.caFile);
  const files = await nodeCertificates(
    pki,
    Array.from({ length: o.count }, (_, i) => nodeId(o.first + i)),
  );
  const hello = payload(KIND.hello, o.helloBytes);
  const result = payload(KIND.result, o.resultBytes);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < files.length) {
      const f = files[next++];
      const client = new BareClient(
        o.address,
        credentials.createSsl(ca, readFileSync(f.keyFile), readFileSync(f.certFile)),
        { ...CLIENT_KEEPALIVE },
      );
      const call = (client as unknown as { chat(md: Metadata): ClientDuplexStream<Buffer, Buffer> }).chat(
        new Metadata(),
      );
      const peer: Peer = { client, call, welcomed: false };
      peers.push(peer);
      await new Promise<void>((res) => {
        call.on('data', (m: Buffer) => {
          if (m[0] === KIND.welcome) {
            peer.welcomed = true;
            res();
          } else {
            call.write(result);
          }
        });
        call.on('error', () => res());
        call.write(hello);
      });
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, o.rampConcurrency) }, lane));
  return { ms: Date.now() - t0 };
}

serveIpc({
  start: (b) => start(b as unknown as Parameters<typeof start>[0]),
  stats: () => ({
    total: peers.length,
    connected: peers.filter((p) => p.welcomed).length,
    rssBytes: process.memoryUsage().rss,
  }),
  stop: () => {
    for (const p of peers) {
      p.call.cancel();
      p.client.close();
    }
    return { stopped: peers.length };
  },
});
