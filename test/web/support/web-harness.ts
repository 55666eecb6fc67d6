/**
 * TEST ONLY: a real controller (test/helpers/controller-harness) with the admin API and the web console
 * on 127.0.0.1:0, four operators (alice admin, olga operator, bob approver, victor viewer) with
 * API tokens, and a small HTTPS client that trusts the controller's CA. The console serves the built UI
 * from dist/web (`npm run build` first).
 */
import { request } from 'node:https';
import type { Clock } from '../../../shared/clock';
import { systemClock } from '../../../shared/clock';
import { issueApiToken } from '../../../controller/access/api-tokens';
import { createOperator } from '../../../controller/access/operators';
import { recordAudited } from '../../../controller/audit';
import { bootstrapAdmin } from '../../../controller/commands/bootstrap-admin';
import type { ControllerConfigInput } from '../../../controller/config';
import type { Principal, Service } from '../../../controller/service';
import { createOperatorsRepo } from '../../../controller/store/operators-repo';
import { SESSION_COOKIE } from '../../../controller/web/web-context';
import type { WebConsole, WebConsoleOptions } from '../../../controller/web/web-console';
import type { Logger } from '../../../shared/logger';
import { removeRoot, startTestController, type TestController } from '../../helpers/controller-harness';

export type OperatorName = 'alice' | 'olga' | 'bob' | 'victor';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface HttpOptions {
  method?: string;
  body?: unknown;
  /** Raw body (sent as is, with `contentType`). */
  raw?: string;
  contentType?: string;
  cookie?: string;
  csrf?: string;
  headers?: Record<string, string>;
  /** The loopback address to connect from (e.g. 127.0.0.2), to act as another source. */
  localAddress?: string;
}

export interface SignedIn {
  cookie: string;
  csrf: string;
  setCookie: string;
  info: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface WebTestController {
  tc: TestController;
  web: WebConsole;
  url: string;
  caPem: string;
  tokens: Record<OperatorName, string>;
  service(): Service;
  principal(name: OperatorName): Principal;
  http(path: string, options?: HttpOptions): Promise<HttpResult>;
  signIn(name: OperatorName): Promise<SignedIn>;
  stop(): Promise<void>;
}

export interface StartWebOptions {
  clock?: Clock;
  log?: Logger;
  config?: ControllerConfigInput;
  web?: WebConsoleOptions;
  /** Run password escrow (default off). */
  escrow?: boolean;
}

export async function startWebController(options: StartWebOptions = {}): Promise<WebTestController> {
  const tc = await startTestController({
    clock: options.clock,
    log: options.log,
    config: options.config,
    escrow: options.escrow,
    web: true,
    deps: { web: options.web },
  });
  const web = tc.ctx.web!;
  const clock = options.clock ?? systemClock;
  const alice = bootstrapAdmin(tc.ctx.store.db, clock, { name: 'alice' });
  const tokens: Record<OperatorName, string> = { alice: alice.token, olga: '', bob: '', victor: '' };
  // Set up on the controller host, not by alice: had alice created bob or handed him his token, bob could
  // not approve alice's privileged requests (the second-person rule).
  const repo = createOperatorsRepo(tc.ctx.store.db);
  for (const [name, role] of [
    ['olga', 'operator'],
    ['bob', 'approver'],
    ['victor', 'viewer'],
  ] as const) {
    createOperator(
      { repo, audited: (fn) => recordAudited(tc.ctx.store.db, () => fn(tc.ctx.audit)), now: () => clock.now() },
      { name, role, by: 'local:test' },
    );
    tokens[name] = issueApiToken(repo, name, { createdBy: 'local:test', ttlSeconds: 86_400, now: clock.now() }).token;
  }
  const url = web.url;
  const caPem = tc.ctx.pki.ca.certPem;

  function http(path: string, o: HttpOptions = {}): Promise<HttpResult> {
    const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    const headers: Record<string, string> = { accept: 'application/json', ...o.headers };
    if (body !== undefined) {
      headers['content-type'] = o.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    if (o.cookie) headers.cookie = `${SESSION_COOKIE}=${o.cookie}`;
    if (o.csrf) headers['x-csrf-token'] = o.csrf;
    return new Promise((res, rej) => {
      const req = request(
        `${url}${path}`,
        { method: o.method ?? (body === undefined ? 'GET' : 'POST'), headers, ca: caPem, localAddress: o.localAddress },
        (r) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (d: string) => (text += d));
          r.on('end', () => {
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            res({ status: r.statusCode ?? 0, headers: r.headers, text, json });
          });
        },
      );
      req.on('error', rej);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  return {
    tc,
    web,
    url,
    caPem,
    tokens,
    http,
    service: () => tc.ctx.service,
    principal: (name) => tc.ctx.service.principalFor(name, 'local'),
    async signIn(name) {
      const r = await http('/api/session', { body: { token: tokens[name] } });
      if (r.status !== 200) throw new Error(`sign-in of ${name} failed: ${r.status} ${r.text}`);
      const setCookie = ([] as string[]).concat(r.headers['set-cookie'] ?? [])[0] ?? '';
      const cookie = new RegExp(`^${SESSION_COOKIE}=([^;]+)`).exec(setCookie)?.[1] ?? '';
      return { cookie, csrf: r.json.csrfToken, setCookie, info: r.json };
    },
    async stop() {
      await tc.stop();
      removeRoot(tc.root);
    },
  };
}
