/**
 * TEST ONLY: a TCP relay on 127.0.0.1 between agents and the controller that can cut the network:
 * `cut()` resets every open connection (bytes held back are lost, as in flight on a dropped link) and
 * refuses new ones until `restore()`. A direction can also be held (`hold('down')`: controller→agent
 * bytes wait in the relay) to cut at an exact point: after the controller wrote a message, before the
 * agent read it.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type Direction = 'up' | 'down';

export interface CutProxy {
  address: string;
  cut(): void;
  restore(): void;
  hold(direction: Direction): void;
  /** Bytes waiting in a held direction. */
  held(direction: Direction): number;
  /** Connections accepted so far (each reconnect is one). */
  accepted(): number;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  buffered: Record<Direction, Buffer[]>;
}

export async function startCutProxy(target: string): Promise<CutProxy> {
  const host = target.slice(0, target.lastIndexOf(':'));
  const port = Number(target.slice(target.lastIndexOf(':') + 1));
  const pairs = new Set<Pair>();
  const holding: Record<Direction, boolean> = { up: false, down: false };
  let down = false;
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted++;
    if (down) {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host, port });
    const pair: Pair = { client, upstream, buffered: { up: [], down: [] } };
    pairs.add(pair);
    const relay = (from: Socket, to: Socket, dir: Direction) => {
      from.on('data', (d: Buffer) => {
        if (holding[dir]) pair.buffered[dir].push(d);
        else to.write(d);
      });
      from.on('end', () => to.end());
      from.on('error', () => undefined);
      from.on('close', () => {
        to.destroy();
        pairs.delete(pair);
      });
    };
    relay(client, upstream, 'up');
    relay(upstream, client, 'down');
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return {
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    cut() {
      down = true;
      holding.up = false;
      holding.down = false;
      for (const p of pairs) {
        p.buffered.up = [];
        p.buffered.down = [];
        p.client.resetAndDestroy();
        p.upstream.resetAndDestroy();
      }
      pairs.clear();
    },
    restore() {
      down = false;
    },
    hold(direction) {
      holding[direction] = true;
    },
    held: (direction) => [...pairs].reduce((n, p) => n + p.buffered[direction].reduce((m, b) => m + b.length, 0), 0),
    accepted: () => accepted,
    close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      return new Promise((res) => server.close(() => res()));
    },
  };
}
