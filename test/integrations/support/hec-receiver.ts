/**
 * TEST ONLY: a Splunk-HEC-compatible receiver (Splunk cannot run here) following Splunk's documented HEC
 * indexer-acknowledgement protocol: POST /services/collector/event with "Authorization: Splunk <token>"
 * and an X-Splunk-Request-Channel header (or ?channel=) answers {"text":"Success","code":0,"ackId":N},
 * ack ids counting from 0 per channel; POST /services/collector/ack with {"acks":[...]} answers
 * {"acks":{"N":true|false}}. A missing channel is 400 code 10, a bad token 403 code 4, a body that is not
 * events 400 code 6. Each ack's fate is chosen by the test: at once, after some polls (late), or never.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestCaFiles } from './test-ca';

/** At once, never, after this many polls of its id, or whenever the function says so at a poll. */
export type AckFate = 'now' | 'never' | { afterPolls: number } | (() => boolean);

export interface HecPost {
  channel: string;
  ackId: number;
  events: Array<Record<string, unknown>>;
}

export interface HecReceiver {
  url: string;
  posts: HecPost[];
  /** Decides each new ack's fate (default: acknowledged at once). */
  fate: (ackId: number, post: HecPost) => AckFate;
  ackPolls: number;
  /** How often each ack id was asked about. */
  pollsOf(ackId: number): number;
  close(): Promise<void>;
}

/** Splunk accepts several event objects back to back in one body. */
function splitEvents(body: string): Array<Record<string, unknown>> | undefined {
  const out: Array<Record<string, unknown>> = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{') {
      if (depth++ === 0) start = i;
    } else if (ch === '}' && --depth === 0) {
      try {
        out.push(JSON.parse(body.slice(start, i + 1)) as Record<string, unknown>);
      } catch {
        return undefined;
      }
    }
  }
  return depth === 0 && out.length > 0 && out.every((e) => 'event' in e) ? out : undefined;
}

export async function startHecReceiver(tls: TestCaFiles, token: string): Promise<HecReceiver> {
  const channels = new Map<string, { next: number; acks: Map<number, { fate: AckFate; polls: number }> }>();
  const r: HecReceiver = {
    url: '',
    posts: [],
    fate: () => 'now',
    ackPolls: 0,
    close: async () => undefined,
    pollsOf: (id) => [...channels.values()].reduce((n, c) => n + (c.acks.get(id)?.polls ?? 0), 0),
  };
  const server: Server = createServer({ cert: tls.server.certPem, key: tls.server.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, v: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(v));
      };
      const url = new URL(req.url ?? '/', 'https://x');
      if (req.headers.authorization !== `Splunk ${token}`) return reply(403, { text: 'Invalid token', code: 4 });
      const channelName =
        (req.headers['x-splunk-request-channel'] as string | undefined) ?? url.searchParams.get('channel') ?? '';
      if (!channelName) return reply(400, { text: 'Data channel is missing', code: 10 });
      let channel = channels.get(channelName);
      if (!channel) channels.set(channelName, (channel = { next: 0, acks: new Map() }));
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'POST' && url.pathname === '/services/collector/event') {
        const events = splitEvents(body);
        if (!events) return reply(400, { text: 'Invalid data format', code: 6 });
        const post = { channel: channelName, ackId: channel.next++, events };
        r.posts.push(post);
        channel.acks.set(post.ackId, { fate: r.fate(post.ackId, post), polls: 0 });
        return reply(200, { text: 'Success', code: 0, ackId: post.ackId });
      }
      if (req.method === 'POST' && url.pathname === '/services/collector/ack') {
        r.ackPolls++;
        let ids: unknown;
        try {
          ids = (JSON.parse(body) as { acks?: unknown }).acks;
        } catch {
          ids = undefined;
        }
        if (!Array.isArray(ids)) return reply(400, { text: 'Invalid data format', code: 6 });
        const acks: Record<string, boolean> = {};
        for (const id of ids as number[]) {
          const a = channel.acks.get(id);
          if (!a) {
            acks[String(id)] = false;
            continue;
          }
          a.polls++;
          acks[String(id)] =
            a.fate === 'now' ||
            (typeof a.fate === 'object' && a.polls > a.fate.afterPolls) ||
            (typeof a.fate === 'function' && a.fate());
        }
        return reply(200, { acks });
      }
      reply(404, { text: 'The requested URL was not found on this server.', code: 404 });
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  r.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  r.close = () =>
    new Promise<void>((res) => {
      server.close(() => res());
      server.closeAllConnections();
    });
  return r;
}
