/**
 * The node's PAM as the people who log in meet it: the login services (sshd, login, gdm-password, su,
 * sudo, cockpit, xrdp-sesman, those present, or the configured list) loaded as libpam loads them, and
 * for one account the verdict of each with the right password, the strictest of them as the account's
 * state, and every failure-counter store the services use (what unlock must clear).
 */
import { posix } from 'node:path';
import { FleetpassError } from '../../../../shared/errors';
import { assessFaillock, readFaillock } from '../faillock';
import type { FailureAssessment } from '../failures';
import type { PasswdEntry } from '../shadow';
import { assessTally2, readTallyRecord } from '../tallylog';
import { parseFaillockLine, type FaillockLine } from './faillock-line';
import type { FaillockFacts, ModelContext, Tally2Facts } from './module-models';
import type { RootFs } from './root-fs';
import { loadService, type LoadedService, type PamHandler } from './service-loader';
import { judgeService, type CounterUse, type ServiceVerdict } from './service-verdict';
import { parseTally2Line, type Tally2Line } from './tally2-line';

/** The services through which people log in to an instrument (the example config's default). */
export const DEFAULT_LOGIN_SERVICES = [
  'sshd',
  'login',
  'gdm-password',
  'su',
  'sudo',
  'cockpit',
  'xrdp-sesman',
] as const;
/** Services run by the user rather than by a root daemon: pam_rootok, magic_root and use_uid see a non-root caller. */
const USER_RUN = new Set(['su', 'su-l', 'sudo', 'sudo-i', 'runuser', 'runuser-l']);

export interface PamAnalysisOptions {
  readonly fs: RootFs;
  readonly pamDir: string;
  /** pam_faillock's built-in conf file. */
  readonly faillockConf: string;
  /** Login services to judge; empty = the defaults that have a file in pamDir. */
  readonly services: readonly string[];
  /** libpam's module directory; detected when unset. */
  readonly moduleDir?: string;
  readonly groupPath: string;
  /** Overrides the module check (tests of images whose modules are not on this machine). */
  readonly moduleExists?: (path: string) => Promise<boolean>;
}

export interface PamLayout {
  readonly services: readonly LoadedService[];
  readonly moduleDir: string;
  readonly moduleDirWhy: string;
  /** How the service list was chosen. */
  readonly servicesWhy: string;
  /** Set when the layout cannot be judged with confidence. */
  readonly unknown?: string;
  readonly moduleExists: (path: string) => Promise<boolean>;
}

export interface AccountPamVerdict {
  readonly services: readonly ServiceVerdict[];
  /** The verdict that makes the account's state. */
  readonly strictest?: ServiceVerdict;
  /** PAM refuses every login of this account for a reason other than failures (the first such service). */
  readonly pamRefuses?: ServiceVerdict;
  /** A service refuses because of failures. */
  readonly counterLock?: CounterUse & { readonly service: string };
  /** Why the verdict is not certain. */
  readonly unknown?: string;
  /** The counter the strictest service uses (for failures and the threshold). */
  readonly counter?: CounterUse;
  /** Every pam_faillock directory and pam_tally2 file the login services use. */
  readonly faillockDirs: readonly string[];
  readonly tallyFiles: readonly string[];
}

const TRIPLETS: Record<string, string> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  arm: 'arm-linux-gnueabihf',
  ppc64: 'powerpc64le-linux-gnu',
  s390x: 's390x-linux-gnu',
};

/** libpam's DEFAULT_MODULE_PATH is compiled in; find it as the directory holding pam_unix.so. */
async function detectModuleDir(fs: RootFs): Promise<{ dir?: string; why: string }> {
  const t = TRIPLETS[process.arch] ?? `${process.arch}-linux-gnu`;
  const candidates = [
    '/lib64/security/',
    '/usr/lib64/security/',
    `/lib/${t}/security/`,
    `/usr/lib/${t}/security/`,
    '/lib/security/',
    '/usr/lib/security/',
  ];
  for (const dir of candidates)
    if (await fs.exists(`${dir}pam_unix.so`)) return { dir, why: `${dir}pam_unix.so exists` };
  return { why: `no pam_unix.so in ${candidates.join(', ')}` };
}

/** Loads the login services. Throws FP_PAM_CONFIG_UNREADABLE only when pamDir itself cannot be read. */
export async function loadPamLayout(opts: PamAnalysisOptions): Promise<PamLayout> {
  const dirInfo = await opts.fs.info(opts.pamDir);
  if (!dirInfo.exists)
    throw new FleetpassError('FP_PAM_CONFIG_UNREADABLE', `cannot read the PAM directory ${opts.pamDir}: ENOENT`, {
      details: { path: opts.pamDir },
    });
  const detected = opts.moduleDir
    ? { dir: opts.moduleDir.endsWith('/') ? opts.moduleDir : `${opts.moduleDir}/`, why: 'configured (pamModuleDir)' }
    : await detectModuleDir(opts.fs);
  const moduleDir = detected.dir ?? '/lib64/security/';
  let names: string[];
  let servicesWhy: string;
  let unknown: string | undefined = detected.dir
    ? undefined
    : `the PAM module directory cannot be found (${detected.why})`;
  if (opts.services.length > 0) {
    names = [...opts.services];
    servicesWhy = 'configured (pamServices)';
  } else {
    names = [];
    for (const s of DEFAULT_LOGIN_SERVICES) if ((await opts.fs.info(posix.join(opts.pamDir, s))).exists) names.push(s);
    servicesWhy = `the default login services that have a file in ${opts.pamDir}`;
    if (names.length === 0) {
      unknown ??= `none of the login services (${DEFAULT_LOGIN_SERVICES.join(', ')}) has a file in ${opts.pamDir}`;
      names = ['sshd']; // what a login would meet: libpam falls back to `other`
    }
  }
  const services: LoadedService[] = [];
  for (const n of names) services.push(await loadService(opts.fs, n, { pamDir: opts.pamDir, moduleDir }));
  const cache = new Map<string, Promise<boolean>>();
  const moduleExists = (path: string): Promise<boolean> => {
    if (!cache.has(path)) cache.set(path, opts.moduleExists ? opts.moduleExists(path) : opts.fs.exists(path));
    return cache.get(path)!;
  };
  return { services, moduleDir, moduleDirWhy: detected.why, servicesWhy, unknown, moduleExists };
}

async function groupsOf(fs: RootFs, groupPath: string, user: PasswdEntry): Promise<string[]> {
  const r = await fs.read(groupPath);
  if (!r.ok) return [];
  const out: string[] = [];
  for (const line of r.text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4) continue;
    if (
      Number(f[2]) === user.gid ||
      f[3]
        .split(',')
        .map((m) => m.trim())
        .includes(user.name)
    )
      out.push(f[0]);
  }
  return out;
}

async function uidMinOf(fs: RootFs): Promise<number> {
  const r = await fs.read('/etc/login.defs');
  const m = r.ok ? /^\s*UID_MIN\s+(\d+)/m.exec(r.text) : null;
  return m ? Number(m[1]) : 1000;
}

const isCounter = (h: PamHandler, name: string) => h.kind === 'module' && h.moduleName === name;

/** Judges every loaded login service for `user` at `now`. */
export async function judgeAccount(
  layout: PamLayout,
  user: PasswdEntry,
  opts: PamAnalysisOptions,
  now: Date,
): Promise<AccountPamVerdict> {
  const fs = opts.fs;
  const nowS = Math.floor(now.getTime() / 1000);
  const groups = await groupsOf(fs, opts.groupPath, user);
  const uidMin = await uidMinOf(fs);
  const nologin = (await fs.exists('/etc/nologin'))
    ? '/etc/nologin'
    : (await fs.exists('/run/nologin'))
      ? '/run/nologin'
      : undefined;
  const account = { name: user.name, uid: user.uid, gid: user.gid, shell: user.shell, home: user.home, groups };

  const all = layout.services.flatMap((s) => s.handlers);
  const auth = layout.services.flatMap((s) => s.auth).filter((h) => h.kind === 'module');
  const exists = new Map<PamHandler, boolean>();
  for (const h of auth) exists.set(h, await layout.moduleExists(h.modulePath!));

  const faillockLines = new Map<PamHandler, FaillockLine>();
  for (const h of all.filter((x) => isCounter(x, 'pam_faillock')))
    faillockLines.set(h, await parseFaillockLine(h, fs, opts.faillockConf));
  const records = new Map<string, Awaited<ReturnType<typeof readFaillock>> | { error: string }>();
  for (const line of faillockLines.values()) {
    if (!line.ok || records.has(line.settings.dir)) continue;
    try {
      records.set(line.settings.dir, await readFaillock(await fs.hostPath(line.settings.dir), user.name));
    } catch (e) {
      records.set(line.settings.dir, { error: (e as Error).message });
    }
  }
  const faillockFacts =
    (fresh: boolean) =>
    (h: PamHandler): FaillockFacts | undefined => {
      const line = faillockLines.get(h);
      if (!line) return undefined;
      if (!line.ok) return { line };
      const s = line.settings;
      const isAdmin = user.uid === 0 || (s.adminGroup ? groups.includes(s.adminGroup) : false);
      const recs = records.get(s.dir)!;
      if ('error' in recs) return { line, ioError: recs.error };
      const assessment: FailureAssessment = assessFaillock(fresh ? [] : recs, s, isAdmin, now);
      return { line, assessment, exempt: isAdmin && !s.evenDenyRoot };
    };

  const tallyLines = new Map<PamHandler, Tally2Line>();
  for (const h of all.filter((x) => isCounter(x, 'pam_tally2'))) tallyLines.set(h, parseTally2Line(h));
  const tallyFacts = new Map<
    string,
    { stored: { count: number; time: number }; fileProblem?: string; unreadable?: string; lastSource?: string }
  >();
  for (const line of tallyLines.values()) {
    const file = line.settings.file;
    if (tallyFacts.has(file)) continue;
    const info = await fs.info(file);
    let fileProblem: string | undefined;
    if (info.exists && ((info.mode & 0o002) !== 0 || !info.isFile)) {
      fileProblem = `${file} is ${info.isFile ? 'world-writable' : 'not a regular file'}, which pam_tally2 (get_tally) refuses`;
    }
    // A damaged file throws FP_TALLYLOG_CORRUPT: the agent does not guess, and never rewrites it.
    const rec = info.exists && info.isFile ? await readTallyRecord(await fs.hostPath(file), user.uid) : undefined;
    tallyFacts.set(file, {
      stored: { count: rec?.failCount ?? 0, time: rec?.failTime ?? 0 },
      fileProblem,
      lastSource: rec?.failLine,
    });
  }
  const tally2Facts =
    (fresh: boolean) =>
    (h: PamHandler): Tally2Facts | undefined => {
      const line = tallyLines.get(h);
      if (!line) return undefined;
      const f = tallyFacts.get(line.settings.file)!;
      return {
        line,
        stored: fresh ? { count: 0, time: 0 } : f.stored,
        fileProblem: f.fileProblem,
        unreadable: fresh ? undefined : f.unreadable,
      };
    };

  const counterUse = (h: PamHandler): Omit<CounterUse, 'handler' | 'where'> | undefined => {
    const fl = faillockFacts(false)(h);
    if (fl?.assessment && fl.line.ok) {
      const a = fl.assessment;
      return {
        kind: 'faillock',
        exempt: fl.exempt ?? false,
        unlockTime: fl.line.settings.unlockTime,
        failInterval: fl.line.settings.failInterval,
        deny: fl.line.settings.deny,
        failures: a.failures,
        locked: a.locked,
        lockEnds: a.lockEnds,
        permanent: a.lockPermanent,
        lastFailure: a.lastFailure,
        lastFailureSource: a.lastFailureSource,
        store: fl.line.settings.dir,
        settingsText: faillockText(fl.line),
      };
    }
    const t = tally2Facts(false)(h);
    if (t) {
      const a = assessTally2(
        {
          failLine: tallyFacts.get(t.line.settings.file)?.lastSource ?? '',
          failCount: t.stored.count,
          failTime: t.stored.time,
        },
        t.line.settings,
        user.uid,
        now,
      );
      return {
        kind: 'tally2',
        exempt: user.uid === 0 && !t.line.settings.evenDenyRoot,
        unlockTime: t.line.settings.unlockTime,
        deny: t.line.settings.deny,
        failures: a.failures,
        locked: a.locked,
        lockEnds: a.lockEnds,
        permanent: a.lockPermanent,
        lastFailure: a.lastFailure,
        lastFailureSource: a.lastFailureSource,
        store: t.line.settings.file,
        settingsText: `deny=${t.line.settings.deny} unlock_time=${t.line.settings.unlockTime} file=${t.line.settings.file}`,
      };
    }
    return undefined;
  };

  const services: ServiceVerdict[] = [];
  for (const svc of layout.services) {
    const callerIsRoot = !USER_RUN.has(svc.service);
    const ctx = (fresh: boolean): ModelContext => ({
      account,
      service: svc.service,
      callerIsRoot,
      nowS,
      uidMin,
      nologinFile: nologin,
      moduleExists: (h) => exists.get(h) ?? true,
      faillock: faillockFacts(fresh),
      tally2: tally2Facts(fresh),
    });
    services.push(judgeService(svc, ctx(false), ctx(true), { counterUse }));
  }
  return combine(layout, services, faillockLines, tallyLines);
}

function faillockText(l: FaillockLine): string {
  if (!l.ok) return l.why;
  const s = l.settings;
  const o = l.origins;
  return `${l.action}${l.implicitAction ? ' (implicit)' : ''} deny=${s.deny} [${o.deny}] unlock_time=${s.unlockTime || 'never'} [${o.unlock_time}] fail_interval=${s.failInterval} [${o.fail_interval}] dir=${s.dir} [${o.dir}]${s.evenDenyRoot ? ' even_deny_root' : ''}${s.adminGroup ? ` admin_group=${s.adminGroup}` : ''}`;
}

function combine(
  layout: PamLayout,
  services: ServiceVerdict[],
  faillockLines: Map<PamHandler, FaillockLine>,
  tallyLines: Map<PamHandler, Tally2Line>,
): AccountPamVerdict {
  const faillockDirs = [
    ...new Set([...faillockLines.values()].filter((l) => l.ok).map((l) => (l.ok ? l.settings.dir : ''))),
  ].sort();
  const tallyFiles = [...new Set([...tallyLines.values()].map((l) => l.settings.file))].sort();
  const pamRefuses = services.find((s) => s.verdict === 'refuses' && s.cause === 'pam');
  const locks = services
    .filter((s) => s.verdict === 'refuses' && s.cause === 'counter')
    .map((s) => ({ s, c: s.counters.find((c) => c.locked) }))
    .filter((x): x is { s: ServiceVerdict; c: CounterUse } => x.c !== undefined);
  // The lock that lasts longest: a permanent one, else the latest end.
  locks.sort(
    (a, b) =>
      Number(b.c.permanent) - Number(a.c.permanent) || (b.c.lockEnds?.getTime() ?? 0) - (a.c.lockEnds?.getTime() ?? 0),
  );
  const unknownSvc = services.find((s) => s.verdict === 'unknown');
  const unknown = layout.unknown ?? (unknownSvc ? `${unknownSvc.service}: ${unknownSvc.why}` : undefined);
  const margin = (c: CounterUse) => (c.deny === 0 ? Number.MAX_SAFE_INTEGER : c.deny - c.failures);
  const accepting = services.filter((s) => s.verdict === 'accepts');
  let strictest: ServiceVerdict | undefined;
  let counter: CounterUse | undefined;
  if (pamRefuses) {
    strictest = pamRefuses;
    counter = locks[0]?.c ?? pamRefuses.counters[0];
  } else if (locks.length > 0) {
    strictest = locks[0].s;
    counter = locks[0].c;
  } else if (unknownSvc) {
    strictest = unknownSvc;
    counter = unknownSvc.counters[0];
  } else {
    let best: { s: ServiceVerdict; c?: CounterUse } | undefined;
    for (const s of accepting) {
      const c = [...s.counters].sort((a, b) => margin(a) - margin(b))[0];
      if (!best || (c && (!best.c || margin(c) < margin(best.c)))) best = { s, c };
    }
    strictest = best?.s;
    counter = best?.c;
  }
  return {
    services,
    strictest,
    pamRefuses,
    counterLock: locks[0] ? { ...locks[0].c, service: locks[0].s.service } : undefined,
    unknown,
    counter,
    faillockDirs,
    tallyFiles,
  };
}
