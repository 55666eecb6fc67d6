/**
 * TEST ONLY: a TCP relay on 127.0.0.1 that can go silent without closing anything, like a node that lost
 * power or a network that drops packets: sockets stay open, bytes stop flowing. Used to show that HTTP/2
 * keepalive notices a dead peer in bounded time.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface BlackholeProxy {
  address: string;
  /** Stops relaying in both directions; nothing is closed. */
  blackhole(): void;
  close(): Promise<void>;
}

export async function startBlackholeProxy(target: string): Promise<BlackholeProxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<Socket>();
  let silent = false;
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host, port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d) => {
      if (!silent) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!silent) client.write(d);
    });
    client.on('end', () => !silent && upstream.end());
    upstream.on('end', () => !silent && client.end());
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return {
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    blackhole() {
      silent = true;
    },
    close: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}
