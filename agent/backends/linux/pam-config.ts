/**
 * The faillock/tally2 settings types and option rules shared by the PAM analysis (pam/), and the legacy
 * reading used only when the config forces one counter (`counter: faillock|tally2|none`): the
 * pam_faillock.so / pam_tally2.so arguments of the named services and what they include, merged with
 * faillock.conf. By default (`counter: auto`) pam/login-analysis.ts judges the stacks instead.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { FleetpassError } from '../../../shared/errors';

export type CounterKind = 'faillock' | 'tally2' | 'none';
export type CounterSetting = CounterKind | 'auto';

/** pam_faillock's effective options (v1.4+ semantics; times in seconds, 0 = never). */
export interface FaillockSettings {
  readonly dir: string;
  readonly deny: number;
  readonly failInterval: number;
  readonly unlockTime: number;
  readonly rootUnlockTime: number;
  readonly evenDenyRoot: boolean;
  readonly adminGroup?: string;
}

/** pam_tally2's effective options (times in seconds, 0 = off). */
export interface Tally2Settings {
  readonly file: string;
  readonly deny: number;
  readonly lockTime: number;
  readonly unlockTime: number;
  readonly rootUnlockTime: number;
  readonly evenDenyRoot: boolean;
  readonly magicRoot: boolean;
}

export type LockoutConfig =
  | { readonly counter: 'none'; readonly sources: readonly string[]; readonly warnings: readonly string[] }
  | {
      readonly counter: 'faillock';
      readonly faillock: FaillockSettings;
      readonly sources: readonly string[];
      readonly warnings: readonly string[];
    }
  | {
      readonly counter: 'tally2';
      readonly tally2: Tally2Settings;
      readonly sources: readonly string[];
      readonly warnings: readonly string[];
    };

export interface PamConfigPaths {
  /** Directory of PAM service files, /etc/pam.d. */
  readonly pamDir: string;
  /** The faillock.conf pam_faillock reads unless a line says conf=. */
  readonly faillockConf: string;
  /** Only these services (and what they include) are read; empty = every file in pamDir. */
  readonly pamServices?: readonly string[];
  /** Overrides pam_tally2's file= (for nodes that keep it elsewhere); default from the PAM line. */
  readonly tallylogPath?: string;
}

/** One module line of a PAM service file. */
export interface PamLine {
  readonly file: string;
  readonly lineNo: number;
  readonly type: string;
  readonly control: string;
  readonly module: string;
  readonly args: readonly string[];
}

export const FAILLOCK_DEFAULTS: FaillockSettings = {
  dir: '/var/run/faillock',
  deny: 3,
  failInterval: 900,
  unlockTime: 600,
  rootUnlockTime: 600,
  evenDenyRoot: false,
};
export const TALLY2_DEFAULT_FILE = '/var/log/tallylog';
/** pam_faillock rejects intervals above seven days. */
const MAX_TIME_INTERVAL = 604_800;

/** Splits a PAM line into tokens; a token in [brackets] may contain spaces ("[success=1 default=bad]"). */
function tokenize(line: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i])) i++;
    if (i >= line.length) break;
    const start = i;
    if (line[i] === '[') {
      while (i < line.length && line[i] !== ']') i += line[i] === '\\' ? 2 : 1;
      i++;
    } else {
      while (i < line.length && !/\s/.test(line[i])) i++;
    }
    tokens.push(line.slice(start, i));
  }
  return tokens;
}

/** Parses a PAM service file: comments, "\" continuations, "-type" lines; @include lines become type "@include". */
export function parsePamFile(text: string, file: string): PamLine[] {
  const lines: PamLine[] = [];
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const lineNo = i + 1;
    let line = raw[i];
    while (line.endsWith('\\') && i + 1 < raw.length) line = line.slice(0, -1) + ' ' + raw[++i];
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    const t = tokenize(line);
    if (t.length === 0) continue;
    if (t[0] === '@include') {
      if (t[1]) lines.push({ file, lineNo, type: '@include', control: '', module: t[1], args: [] });
      continue;
    }
    if (t.length < 3) continue;
    lines.push({
      file,
      lineNo,
      type: t[0].replace(/^-/, '').toLowerCase(),
      control: t[1],
      module: t[2],
      args: t.slice(3),
    });
  }
  return lines;
}

/** Parses faillock.conf the way pam_faillock's read_config_file does: "key = value", "key value" or a bare flag. */
export function parseFaillockConf(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/#.*$/, '').trim();
    if (!line) continue;
    const m = /^([^\s=]+)\s*(?:=\s*|\s+)?(.*)$/.exec(line);
    if (m) out.push([m[1], m[2].trim()]);
  }
  return out;
}

/** sscanf("%u")-like: leading digits of `value`, or undefined. */
function scanUnsigned(value: string): number | undefined {
  const m = /^\s*\+?(\d+)/.exec(value);
  return m ? Number(m[1]) : undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Applies one faillock option like set_conf_opt; bad values keep the previous value and add a warning. */
export function applyFaillockOption(
  s: Mutable<FaillockSettings> & { rootUnlockSet?: boolean },
  name: string,
  value: string,
  where: string,
  warnings: string[],
): void {
  const time = (key: string): number | undefined => {
    if (value === 'never') return 0;
    const n = scanUnsigned(value);
    if (n === undefined || n > MAX_TIME_INTERVAL) {
      warnings.push(`${where}: bad ${key} value "${value}" ignored`);
      return undefined;
    }
    return n;
  };
  switch (name) {
    case 'dir':
      if (value.startsWith('/')) s.dir = value;
      else warnings.push(`${where}: dir "${value}" is not absolute and is ignored`);
      break;
    case 'deny': {
      const n = scanUnsigned(value);
      if (n === undefined || n > 65535) warnings.push(`${where}: bad deny value "${value}" ignored`);
      else s.deny = n;
      break;
    }
    case 'fail_interval': {
      const n = value === 'never' ? undefined : scanUnsigned(value);
      if (n === undefined || n > MAX_TIME_INTERVAL)
        warnings.push(`${where}: bad fail_interval value "${value}" ignored`);
      else s.failInterval = n;
      break;
    }
    case 'unlock_time': {
      const n = time('unlock_time');
      if (n !== undefined) s.unlockTime = n;
      break;
    }
    case 'root_unlock_time': {
      const n = time('root_unlock_time');
      if (n !== undefined) {
        s.rootUnlockTime = n;
        s.rootUnlockSet = true;
      }
      break;
    }
    case 'admin_group':
      s.adminGroup = value || undefined;
      break;
    case 'even_deny_root':
      s.evenDenyRoot = true;
      break;
    case 'audit':
    case 'silent':
    case 'no_log_info':
    case 'local_users_only':
    case 'nodelay':
      break;
    default:
      warnings.push(`${where}: unknown pam_faillock option "${name}"`);
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FleetpassError(
      'FP_PAM_CONFIG_UNREADABLE',
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      { cause: e, details: { path } },
    );
  }
}

/** The effective pam_faillock settings for one module line (or for the conf file alone when `line` is undefined). */
export async function faillockSettingsFor(
  line: PamLine | undefined,
  defaultConf: string,
  warnings: string[],
): Promise<FaillockSettings> {
  const s: Mutable<FaillockSettings> & { rootUnlockSet?: boolean } = { ...FAILLOCK_DEFAULTS };
  const confArg = line?.args.find((a) => a.startsWith('conf='));
  const conf = confArg ? confArg.slice('conf='.length) : defaultConf;
  const text = await readText(conf);
  if (text === undefined && confArg) {
    warnings.push(`${line!.file}:${line!.lineNo}: conf file ${conf} is missing, so pam_faillock fails on this line`);
  }
  for (const [k, v] of parseFaillockConf(text ?? '')) applyFaillockOption(s, k, v, conf, warnings);
  for (const arg of line?.args ?? []) {
    if (arg === confArg || arg === 'preauth' || arg === 'authfail' || arg === 'authsucc') continue;
    const eq = arg.indexOf('=');
    applyFaillockOption(
      s,
      eq >= 0 ? arg.slice(0, eq) : arg,
      eq >= 0 ? arg.slice(eq + 1) : '',
      `${line!.file}:${line!.lineNo}`,
      warnings,
    );
  }
  const { rootUnlockSet, ...settings } = s;
  if (!rootUnlockSet) settings.rootUnlockTime = settings.unlockTime;
  return settings;
}

/** The effective pam_tally2 settings from its module lines (auth-phase options, file= from any line). */
export function tally2SettingsFor(lines: readonly PamLine[], warnings: string[]): Tally2Settings {
  const s: Mutable<Tally2Settings> = {
    file: TALLY2_DEFAULT_FILE,
    deny: 0,
    lockTime: 0,
    unlockTime: 0,
    rootUnlockTime: 0,
    evenDenyRoot: false,
    magicRoot: false,
  };
  let rootUnlockSet = false;
  const auth = lines.find((l) => l.type === 'auth');
  for (const line of lines) {
    const file = line.args.find((a) => a.startsWith('file='))?.slice('file='.length);
    if (file && file.startsWith('/')) s.file = file;
  }
  for (const arg of auth?.args ?? []) {
    const where = `${auth!.file}:${auth!.lineNo}`;
    const [name, value = ''] = arg.split(/=(.*)/s);
    const num = (): number | undefined => {
      const n = scanUnsigned(value);
      if (n === undefined)
        warnings.push(`${where}: bad ${name} value "${value}": pam_tally2 fails every login on this line`);
      return n;
    };
    if (name === 'deny') s.deny = num() ?? s.deny;
    else if (name === 'lock_time') s.lockTime = num() ?? s.lockTime;
    else if (name === 'unlock_time') s.unlockTime = num() ?? s.unlockTime;
    else if (name === 'root_unlock_time') {
      s.rootUnlockTime = num() ?? s.rootUnlockTime;
      rootUnlockSet = true;
      s.evenDenyRoot = true; // pam_tally2: root_unlock_time implies even_deny_root
    } else if (name === 'even_deny_root' || name === 'even_deny_root_account') s.evenDenyRoot = true;
    else if (name === 'magic_root') s.magicRoot = true;
  }
  if (!rootUnlockSet) s.rootUnlockTime = s.unlockTime;
  return s;
}

/** Reads every PAM service in `pamDir` (or only `services` and what they include). */
export async function readPamLines(pamDir: string, services: readonly string[] = []): Promise<PamLine[]> {
  let names: string[];
  if (services.length > 0) {
    names = [...services];
  } else {
    try {
      names = (await readdir(pamDir, { withFileTypes: true }))
        .filter((d) => d.isFile() && !d.name.startsWith('.'))
        .map((d) => d.name)
        .sort();
    } catch (e) {
      throw new FleetpassError(
        'FP_PAM_CONFIG_UNREADABLE',
        `cannot read the PAM directory ${pamDir}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
        { cause: e, details: { path: pamDir } },
      );
    }
  }
  const seen = new Set<string>();
  const out: PamLine[] = [];
  const visit = async (name: string, depth: number): Promise<void> => {
    const path = name.startsWith('/') ? name : join(pamDir, basename(name));
    if (seen.has(path) || depth > 8) return;
    seen.add(path);
    const text = await readText(path);
    if (text === undefined) return;
    for (const line of parsePamFile(text, path)) {
      const includes = line.type === '@include' || line.control === 'include' || line.control === 'substack';
      // Includes matter only when reading named services; a full scan reads every file anyway.
      if (includes && services.length > 0) await visit(line.module, depth + 1);
      if (line.type !== '@include') out.push(line);
    }
  };
  for (const name of names) await visit(name, 0);
  return out;
}

function moduleIs(line: PamLine, name: string): boolean {
  return basename(line.module) === name;
}

function sameFaillock(a: FaillockSettings, b: FaillockSettings): boolean {
  return (
    a.dir === b.dir &&
    a.deny === b.deny &&
    a.failInterval === b.failInterval &&
    a.unlockTime === b.unlockTime &&
    a.rootUnlockTime === b.rootUnlockTime &&
    a.evenDenyRoot === b.evenDenyRoot
  );
}

/** The lockout configuration the node really uses, with the counter detected (`auto`) or forced. */
export async function readLockoutConfig(
  paths: PamConfigPaths,
  counter: CounterSetting = 'auto',
): Promise<LockoutConfig> {
  const warnings: string[] = [];
  const lines = await readPamLines(paths.pamDir, paths.pamServices);
  const faillockLines = lines.filter((l) => l.type === 'auth' && moduleIs(l, 'pam_faillock.so'));
  const tallyLines = lines.filter((l) => moduleIs(l, 'pam_tally2.so'));

  let kind: CounterKind;
  if (counter !== 'auto') kind = counter;
  else if (faillockLines.length > 0) kind = 'faillock';
  else if (tallyLines.length > 0) kind = 'tally2';
  else kind = 'none';
  if (counter === 'auto' && faillockLines.length > 0 && tallyLines.length > 0) {
    warnings.push('both pam_faillock.so and pam_tally2.so are configured; pam_faillock is used');
  }

  if (kind === 'faillock') {
    // The preauth line decides whether a login is refused, so its settings are the ones that count.
    const order = ['preauth', 'authsucc', 'authfail'];
    const ranked = [...faillockLines].sort((a, b) => rank(a) - rank(b));
    function rank(l: PamLine): number {
      const i = order.findIndex((o) => l.args.includes(o));
      return i < 0 ? order.length : i;
    }
    if (ranked.length === 0)
      warnings.push(
        `no pam_faillock.so auth line in ${paths.pamDir}; using ${paths.faillockConf} and the module defaults`,
      );
    const chosen = ranked[0];
    const faillock = await faillockSettingsFor(chosen, paths.faillockConf, warnings);
    for (const other of ranked.slice(1)) {
      const s = await faillockSettingsFor(other, paths.faillockConf, []);
      if (!sameFaillock(s, faillock)) {
        warnings.push(
          `pam_faillock settings at ${other.file}:${other.lineNo} differ from ${chosen.file}:${chosen.lineNo}; the latter are used`,
        );
      }
    }
    const sources = [paths.faillockConf, ...(chosen ? [`${chosen.file}:${chosen.lineNo}`] : [])];
    return { counter: 'faillock', faillock, sources, warnings };
  }
  if (kind === 'tally2') {
    if (tallyLines.length === 0)
      warnings.push(`no pam_tally2.so line in ${paths.pamDir}; pam_tally2 defaults (deny=0: never locks) are used`);
    const tally2 = tally2SettingsFor(tallyLines, warnings);
    const withPath = paths.tallylogPath ? { ...tally2, file: paths.tallylogPath } : tally2;
    return { counter: 'tally2', tally2: withPath, sources: tallyLines.map((l) => `${l.file}:${l.lineNo}`), warnings };
  }
  return { counter: 'none', sources: [], warnings };
}
