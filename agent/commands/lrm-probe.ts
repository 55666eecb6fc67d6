/**
 * `fleetpass-agent lrm probe`: reports the Local Run Manager version and which endpoints of the table the
 * instrument answers, so IT can confirm the undocumented API before enabling the LRM backend. Read-only:
 * it reads the login page, signs the service account in and out, calls the read endpoints, and only
 * sends OPTIONS to the write endpoints (unlock, temporary password) — it never unlocks or changes anything.
 */
import { isFleetpassError, type FleetpassError } from '../../shared/errors';
import { silentLogger, type Logger } from '../../shared/logger';
import {
  LRM_ENDPOINT_NAMES,
  lrmClientFor,
  readServicePassword,
  versionSupport,
  SUPPORT_GUIDANCE,
  type LrmBackendConfig,
  type LrmBackendConfigInput,
  type LrmClient,
  type LrmEndpointName,
  type LrmSession,
  type VersionSupport,
} from '../backends/lrm';

export type ProbeResult =
  'ok' | 'answers' | 'absent' | 'missing' | 'unconfirmed' | 'refused' | 'unexpected' | 'error' | 'skipped';

export interface EndpointReport {
  name: LrmEndpointName;
  method: string;
  path: string;
  result: ProbeResult;
  detail: string;
  code?: string;
}

export interface ProbeReport {
  origin: string;
  version?: string;
  support?: VersionSupport;
  endpoints: EndpointReport[];
  ready: boolean;
  message: string;
}

/** Results that block enabling the backend. */
const BLOCKING: ReadonlySet<ProbeResult> = new Set(['missing', 'refused', 'unexpected', 'error', 'skipped']);
/** The LRM may legitimately not serve this one; the user record can carry the same facts. */
const OPTIONAL: ReadonlySet<LrmEndpointName> = new Set(['securitySettings']);

function describeError(e: unknown): { result: ProbeResult; detail: string; code?: string } {
  if (!isFleetpassError(e)) return { result: 'error', detail: 'unexpected error (see the agent log)' };
  const result: ProbeResult =
    e.code === 'FP_LRM_UNEXPECTED_RESPONSE'
      ? 'unexpected'
      : e.code === 'FP_LRM_NOT_ADMIN' || e.code === 'FP_LRM_AUTH_FAILED'
        ? 'refused'
        : 'error';
  return { result, detail: e.message, code: e.code };
}

/** Runs every probe step in order; each failure is recorded and later steps that need a session are skipped. */
async function probe(config: LrmBackendConfig, client: LrmClient): Promise<ProbeReport> {
  const endpoints: EndpointReport[] = [];
  const add = (name: LrmEndpointName, r: { result: ProbeResult; detail: string; code?: string }) =>
    endpoints.push({ name, method: client.endpoints[name].method, path: client.endpoints[name].path, ...r });
  const skipRest = (why: string) => {
    for (const name of LRM_ENDPOINT_NAMES)
      if (!endpoints.some((e) => e.name === name)) add(name, { result: 'skipped', detail: why });
  };
  const report = (partial: Omit<ProbeReport, 'origin' | 'endpoints'>): ProbeReport => ({
    origin: client.origin,
    endpoints,
    ...partial,
  });

  let page;
  try {
    page = await client.readLoginPage();
  } catch (e) {
    const d = describeError(e);
    add('loginPage', d);
    const fp = isFleetpassError(e) ? (e as FleetpassError).details.presentedFingerprint : undefined;
    const hint =
      typeof fp === 'string'
        ? ` The instrument presented certificate ${fp}; once you have checked on the instrument that this is LRM's own certificate, set lrm.tls.fingerprint to it.`
        : '';
    skipRest('the login page could not be read');
    return report({ ready: false, message: `${d.detail}.${hint}` });
  }
  if (!page.version) {
    add('loginPage', {
      result: 'unexpected',
      detail:
        page.status >= 200 && page.status < 300
          ? 'no version found on the page (set lrm.versionPattern or lrm.endpoints.loginPage)'
          : `HTTP ${page.status}`,
    });
    skipRest('the version is unknown');
    return report({ ready: false, message: 'The LRM version could not be read; nothing else was tried.' });
  }
  const support = versionSupport(page.version);
  add('loginPage', { result: 'ok', detail: `version ${page.version.text}` });
  if (support === 'too-old') {
    skipRest('LRM 3.x or older: nothing else is sent');
    return report({ version: page.version.text, support, ready: false, message: SUPPORT_GUIDANCE });
  }

  let session: LrmSession;
  try {
    session = await client.login(config.serviceAccount.username, readServicePassword(config));
    add('login', { result: 'ok', detail: `signed in as ${config.serviceAccount.username}` });
  } catch (e) {
    add('login', describeError(e));
    skipRest('the service account could not sign in');
    return report({
      version: page.version.text,
      support,
      ready: false,
      message: 'The LRM service account could not sign in; fix lrm.serviceAccount and probe again.',
    });
  }

  try {
    await step('listUsers', async () => `${(await client.listUsers(session)).length} users`);
    await step('getUser', async () => {
      const me = await client.getUser(session, config.serviceAccount.username);
      if (!me) throw Object.assign(new Error('service account not found'), { probeResult: 'unexpected' as const });
      return `found ${me.username}${me.role ? ` (role ${me.role})` : ''}${me.failedLoginAttempts !== undefined ? `, ${me.failedLoginAttempts} failed attempts` : ''}`;
    });
    try {
      const s = await client.securitySettings(session);
      add(
        'securitySettings',
        s
          ? {
              result: 'ok',
              detail: `allowed login attempts ${s.allowedLoginAttempts ?? '?'}, password expiry ${s.passwordExpiryDays ?? '?'} days`,
            }
          : { result: 'absent', detail: 'not served (optional: the user record is used instead)' },
      );
    } catch (e) {
      add('securitySettings', describeError(e));
    }
    for (const name of ['unlockUser', 'setTemporaryPassword'] as const) {
      // OPTIONS only: a write endpoint is never called by the probe.
      try {
        const res = await client.options(name, config.serviceAccount.username);
        const allow = String(res.headers.allow ?? '')
          .toUpperCase()
          .split(/\s*,\s*/);
        const method = client.endpoints[name].method;
        if (res.status >= 200 && res.status < 300 && allow.includes(method))
          add(name, { result: 'answers', detail: `OPTIONS allows ${method} (not called)` });
        else if (res.status === 404) add(name, { result: 'missing', detail: 'OPTIONS: HTTP 404, no such path' });
        else
          add(name, {
            result: 'unconfirmed',
            detail: `OPTIONS: HTTP ${res.status}; not called, confirm with one unlock of a test user`,
          });
      } catch (e) {
        add(name, describeError(e));
      }
    }
  } finally {
    try {
      await client.logout(session);
      add('logout', { result: 'ok', detail: 'signed out' });
    } catch (e) {
      add('logout', describeError(e));
    }
  }

  async function step(name: LrmEndpointName, fn: () => Promise<string>): Promise<void> {
    try {
      add(name, { result: 'ok', detail: await fn() });
    } catch (e) {
      const forced = (e as { probeResult?: ProbeResult }).probeResult;
      add(name, forced ? { result: forced, detail: (e as Error).message } : describeError(e));
    }
  }

  const blocking = endpoints.filter((e) => BLOCKING.has(e.result) && !OPTIONAL.has(e.name));
  const versionOk = support === 'supported' || config.allowUntestedVersion;
  const ready = versionOk && blocking.length === 0;
  const message = ready
    ? `Local Run Manager ${page.version.text} answers every required endpoint; the LRM backend can be enabled.`
    : !versionOk
      ? `Local Run Manager ${page.version.text} is newer than 4.x and not verified; if every endpoint above is ok, set lrm.allowUntestedVersion: true.`
      : `Not ready: ${blocking.map((e) => `${e.name} ${e.result}`).join(', ')}. Fix lrm.endpoints (see agent/backends/lrm/README.md) and probe again.`;
  return report({ version: page.version.text, support, ready, message });
}

/** Runs the probe and prints the report; returns 0 when the backend can be enabled, 1 when not, 2 on bad config. */
export async function runLrmProbe(
  config: LrmBackendConfigInput | LrmBackendConfig,
  out: (line: string) => void,
  opts: { json?: boolean; log?: Logger } = {},
): Promise<number> {
  let parsed;
  try {
    parsed = lrmClientFor(config, opts.log ?? silentLogger());
  } catch (e) {
    out(isFleetpassError(e) ? `${e.code}: ${e.message}` : 'error: the LRM configuration could not be used');
    return 2;
  }
  const result = await probe(parsed.config, parsed.client);
  if (opts.json) {
    out(JSON.stringify(result));
  } else {
    out(`Local Run Manager at ${result.origin}`);
    out(`version: ${result.version ?? 'unknown'}${result.support ? ` (${result.support})` : ''}`);
    out(`${'ENDPOINT'.padEnd(22)}${'METHOD'.padEnd(8)}${'PATH'.padEnd(42)}${'RESULT'.padEnd(13)}DETAIL`);
    for (const e of result.endpoints)
      out(`${e.name.padEnd(22)}${e.method.padEnd(8)}${e.path.padEnd(42)}${e.result.padEnd(13)}${e.detail}`);
    out(`${result.ready ? 'ready' : 'not ready'}: ${result.message}`);
  }
  return result.ready ? 0 : 1;
}
