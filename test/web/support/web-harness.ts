/**
 * TEST ONLY: a real controller (test/helpers/controller-harness) with the admin API and the web console
 * plugins on 127.0.0.1:0, four operators (alice admin, olga operator, bob approver, victor viewer) with
 * API tokens, and a small HTTPS client that trusts the controller's CA. The console serves the built UI
 * from dist/web (`npm run build` first).
 */
import { request } from 'node:https';
import type { Clock } from '../../../shared/clock';
import { systemClock } from '../../../shared/clock';
import { adminApiPlugin, type AdminApiOptions, type AdminApiPlugin } from '../../../controller/admin/admin-plugin';
import type { AdminService } from '../../../controller/admin/admin-service';
import type { Principal } from '../../../controller/admin/authenticate';
import { issueApiToken } from '../../../controller/admin/api-tokens';
import { bootstrapAdmin } from '../../../controller/admin/bootstrap';
import { createOperator } from '../../../controller/admin/operators';
import { createOperatorsRepo } from '../../../controller/store/operators-repo';
import type { ControllerConfigInput } from '../../../controller/config';
import type { ControllerPlugin } from '../../../controller/controller';
import type { Logger } from '../../../shared/logger';
import { SESSION_COOKIE } from '../../../controller/web/web-context';
import { webConsolePlugin, type WebConsoleOptions, type WebConsolePlugin } from '../../../controller/web/web-plugin';
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
}

export interface SignedIn {
  cookie: string;
  csrf: string;
  setCookie: string;
  info: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface WebTestController {
  tc: TestController;
  admin: AdminApiPlugin;
  web: WebConsolePlugin;
  url: string;
  caPem: string;
  tokens: Record<OperatorName, string>;
  service(): AdminService;
  principal(name: OperatorName): Principal;
  http(path: string, options?: HttpOptions): Promise<HttpResult>;
  signIn(name: OperatorName): Promise<SignedIn>;
  stop(): Promise<void>;
}

export interface StartWebOptions {
  clock?: Clock;
  log?: Logger;
  config?: ControllerConfigInput;
  web?: Partial<Omit<WebConsoleOptions, 'admin'>>;
  /** Admin API options (e.g. extensions) and plugins that start before it (e.g. escrow). */
  admin?: AdminApiOptions;
  plugins?: ControllerPlugin[];
}

export async function startWebController(options: StartWebOptions = {}): Promise<WebTestController> {
  const admin = adminApiPlugin(options.admin);
  const web = webConsolePlugin({ admin: () => admin.service(), ...options.web });
  const tc = await startTestController({ clock: options.clock, log: options.log, config: options.config, deps: { plugins: [...(options.plugins ?? []), admin, web] } });
  const clock = options.clock ?? systemClock;
  const alice = bootstrapAdmin(tc.ctx.store.db, clock, { name: 'alice' });
  const tokens: Record<OperatorName, string> = { alice: alice.token, olga: '', bob: '', victor: '' };
  // Set up on the controller host, not by alice: had alice created bob or handed him his token, bob could
  // not approve alice's privileged requests (the second-person rule).
  const repo = createOperatorsRepo(tc.ctx.store.db);
  for (const [name, role] of [['olga', 'operator'], ['bob', 'approver'], ['victor', 'viewer']] as const) {
    createOperator({ repo, audited: tc.ctx.service.audited, now: () => clock.now() }, { name, role, by: 'local:test' });
    tokens[name] = issueApiToken(repo, name, { createdBy: 'local:test', ttlSeconds: 86_400, now: clock.now() }).token;
  }
  const url = web.url();
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
      const req = request(`${url}${path}`, { method: o.method ?? (body === undefined ? 'GET' : 'POST'), headers, ca: caPem }, (r) => {
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
      });
      req.on('error', rej);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  return {
    tc, admin, web, url, caPem, tokens, http,
    service: () => admin.service(),
    principal: (name) => admin.service().principalFor(name, 'local'),
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
