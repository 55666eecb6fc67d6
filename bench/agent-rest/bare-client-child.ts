/**
 * BENCHMARK ONLY: the baseline of the agent at rest: a bare grpc-js client process holding one
 * bidirectional stream over mutual TLS (same certificate, same keepalive settings as the agent), having
 * sent one hello-sized message and read one answer. Run: node bare-client-child.js '<json>'.
 */
import { readFileSync } from 'node:fs';
import { credentials, Metadata, type ClientDuplexStream } from '@grpc/grpc-js';
import { BareClient, CLIENT_KEEPALIVE, KIND, payload } from '../baseline/bare-service';
import { serveIpc } from '../lib/ipc';

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2]) as {
    address: string;
    caFile: string;
    certFile: string;
    keyFile: string;
    helloBytes: number;
  };
  const client = new BareClient(
    o.address,
    credentials.createSsl(readFileSync(o.caFile), readFileSync(o.keyFile), readFileSync(o.certFile)),
    { ...CLIENT_KEEPALIVE },
  );
  const call = (client as unknown as { chat(md: Metadata): ClientDuplexStream<Buffer, Buffer> }).chat(new Metadata());
  let welcomed = false;
  let ended = false;
  call.on('data', (m: Buffer) => {
    if (m[0] === KIND.welcome) welcomed = true;
  });
  call.on('error', () => (ended = true));
  call.on('end', () => (ended = true));
  call.write(payload(KIND.hello, o.helloBytes));
  serveIpc({ state: () => ({ welcomed, ended }), cpu: () => process.cpuUsage() }, { pid: process.pid });
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
