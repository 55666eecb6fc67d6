/**
 * Loads one PAM service's auth stack the way libpam does (libpam/pam_handlers.c, _pam_init_handlers,
 * _pam_parse_conf_file, _pam_load_conf_file, _pam_assemble_line): /etc/pam.d/<service> (else
 * /usr/lib/pam.d/<service>), `include` and `substack` (only lines of the including type), Debian's
 * `@include` (every type), "-type" lines, and the `other` service, whose chain is used for a type the
 * service itself has no lines for. Only files libpam would open are read: a stale *.rpmsave or editor
 * backup beside them never is. Every file and line read is recorded for `doctor`.
 */
import { posix } from 'node:path';
import { ACTION_BAD, ACTION_UNDEF, parseControl, RETURN_VALUES, setDefaultControl } from './codes';
import type { RootFs } from './root-fs';

export type PamType = 'auth' | 'account' | 'password' | 'session';

/** One entry of a dispatch chain: libpam's struct handler. */
export interface PamHandler {
  /** module: call the module; must_fail: libpam forces PAM_PERM_DENIED; substack: marks entering a substack. */
  readonly kind: 'module' | 'must_fail' | 'substack';
  readonly type: PamType;
  readonly stackLevel: number;
  /** Action per return code (index 0..31). */
  readonly actions: readonly number[];
  /** The module as written ("pam_unix.so", "/lib64/security/pam_faillock.so"). */
  readonly module?: string;
  /** The path libpam dlopen()s. */
  readonly modulePath?: string;
  /** "pam_unix" (extract_modulename). */
  readonly moduleName?: string;
  readonly args: readonly string[];
  /** "-" before the type: a missing module is not logged (it still fails like any missing module). */
  readonly silent: boolean;
  readonly file: string;
  readonly lineNo: number;
  readonly text: string;
  /** Why libpam made this a must_fail entry, or a control syntax error. */
  readonly problem?: string;
}

/** A file libpam opened (or tried to) while loading the service. */
export interface FileRead {
  /** The name libpam opened (/etc/pam.d/system-auth). */
  readonly path: string;
  /** Where it really is, after symlinks. */
  readonly realPath?: string;
  readonly links: readonly string[];
  /** Why it could not be read (ENOENT, EACCES, ...); undefined when read. */
  readonly error?: string;
  /** Which service line made libpam open it ("" for the service's own file and `other`). */
  readonly from: string;
}

export interface LoadedService {
  readonly service: string;
  /** The chain pam_authenticate walks: the service's own auth lines, else `other`'s. */
  readonly auth: readonly PamHandler[];
  readonly authFrom: 'service' | 'other';
  /** Every handler of every type, in file order (for doctor). */
  readonly handlers: readonly PamHandler[];
  readonly files: readonly FileRead[];
  /** Set when pam_start itself fails (no readable service or `other` file, unreadable service file). */
  readonly startFailure?: string;
  /** libpam's own complaints (syntax errors, missing includes), each "file:line: text". */
  readonly problems: readonly string[];
}

export interface LoadOptions {
  /** The PAM configuration directory (PAM_CONFIG_D). */
  readonly pamDir: string;
  /** libpam's DEFAULT_MODULE_PATH, ending in "/". */
  readonly moduleDir: string;
}

/** PAM_SUBSTACK_MAX_LEVEL in libpam/pam_private.h; since 1.6 it also bounds include depth. */
export const MAX_LEVEL = 16;
/** libpam before 1.6 assembles a logical line in a 1024-byte buffer and gives up on longer ones. */
const BUF_SIZE = 1024;
const TYPES: Record<string, PamType> = { auth: 'auth', account: 'account', password: 'password', session: 'session' };
const DIST_DIR = '/usr/lib/pam.d';

/** _pam_assemble_line over a whole file: logical lines with their first physical line number; null on overflow or a dangling "\". */
export function assembleLines(text: string): Array<{ lineNo: number; line: string }> | null {
  const out: Array<{ lineNo: number; line: string }> = [];
  const physical = text.split('\n');
  if (physical.length > 0 && physical[physical.length - 1] === '') physical.pop();
  let buf = '';
  let start = 0;
  for (let i = 0; i < physical.length; i++) {
    // fgets keeps the leading blanks in the buffer; only an empty or comment line is dropped.
    const raw = physical[i];
    const s = raw.replace(/^[ \n\t]+/, '');
    if (!s || s.startsWith('#')) continue;
    if (!buf) start = i + 1;
    const hash = raw.indexOf('#');
    if (hash >= 0) {
      buf += raw.slice(0, hash);
      if (buf.length >= BUF_SIZE - 1) return null;
      out.push({ lineNo: start, line: buf });
      buf = '';
      continue;
    }
    const trimmed = raw.replace(/[ \t\n]+$/, '');
    if (trimmed.endsWith('\\')) {
      buf += `${trimmed.slice(0, -1)} `;
      if (buf.length >= BUF_SIZE - 1) return null;
      continue;
    }
    buf += raw;
    if (buf.length >= BUF_SIZE - 1) return null;
    out.push({ lineNo: start, line: buf });
    buf = '';
  }
  return buf ? null : out;
}

/** _pam_StrTok with " \n\t": the next token and the rest; "[...]" is one token, returned without brackets ("\]" is "]"). */
export function nextToken(s: string): { tok?: string; bracket: boolean; rest: string } {
  const t = s.replace(/^[ \n\t]+/, '');
  if (!t) return { bracket: false, rest: '' };
  if (t.startsWith('[')) {
    let out = '';
    let i = 1;
    for (; i < t.length && t[i] !== ']'; i++) {
      if (t[i] === '\\' && t[i + 1] === ']') i++;
      out += t[i];
    }
    // The character after "]" (or the end) terminates the token.
    return { tok: out, bracket: true, rest: t.slice(i + 1) };
  }
  const m = /^[^ \n\t]+/.exec(t)!;
  return { tok: m[0], bracket: false, rest: t.slice(m[0].length + 1) };
}

/** _pam_mkargv: the module arguments ("[...]" groups kept as one argument without brackets). */
export function splitArgs(s: string): string[] {
  const args: string[] = [];
  let rest = s;
  for (;;) {
    const n = nextToken(rest);
    if (n.tok === undefined) return args;
    args.push(n.tok);
    rest = n.rest;
  }
}

/** extract_modulename: "pam_unix" from "/lib64/security/pam_unix.so". */
function moduleNameOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** Loads `service` as pam_start() does. Never throws for a bad layout: libpam's failures become must_fail entries or startFailure. */
export async function loadService(fs: RootFs, service: string, opts: LoadOptions): Promise<LoadedService> {
  const handlers: Array<PamHandler & { other: boolean }> = [];
  const files: FileRead[] = [];
  const problems: string[] = [];

  /** _pam_open_config_file: an absolute name as is, else pamDir then /usr/lib/pam.d. */
  const open = async (
    name: string,
    from: string,
  ): Promise<{ text: string; path: string } | { error: string; path: string }> => {
    const candidates = name.startsWith('/') ? [name] : [posix.join(opts.pamDir, name), posix.join(DIST_DIR, name)];
    let first: { error: string; path: string } | undefined;
    for (const path of candidates) {
      const r = await fs.read(path);
      if (r.ok) {
        files.push({ path, realPath: r.realPath, links: r.links, from });
        return { text: r.text, path };
      }
      // A missing dist file is not worth listing unless nothing is found at all.
      if (!first) {
        first = { error: r.code, path };
        files.push({ path, realPath: r.realPath, links: r.links, error: r.code, from });
      }
    }
    return first!;
  };

  /** _pam_parse_conf_file; false when libpam would return PAM_ABORT for this file. */
  const parse = async (
    text: string,
    path: string,
    isOther: boolean,
    requested: PamType | 'any',
    includeLevel: number,
    stackLevel: number,
  ): Promise<boolean> => {
    const lines = assembleLines(text);
    if (lines === null) {
      problems.push(
        `${path}: a line is longer than libpam's ${BUF_SIZE}-byte buffer or ends in "\\" at the end of the file; libpam stops reading the file there`,
      );
      return false;
    }
    for (const { lineNo, line } of lines) {
      const where = `${path}:${lineNo}`;
      const textLine = line.trim();
      let t = nextToken(line);
      let silent = false;
      let type: PamType;
      let mustFail: string | undefined;
      // Debian's libpam: "@include file" pulls in every line of `file` of the requested type.
      if (t.tok === '@include') {
        const target = nextToken(t.rest).tok;
        if (!target) {
          problems.push(`${where}: @include without a file name`);
          continue;
        }
        const ok = await includeFile(target, where, isOther, requested, includeLevel, stackLevel);
        if (!ok) {
          // The Debian patch reports the failure and, like include, installs a failing entry.
          const ty: PamType = requested === 'any' ? 'auth' : requested;
          handlers.push({
            kind: 'must_fail',
            type: ty,
            stackLevel,
            actions: bad(),
            args: [],
            silent: false,
            file: path,
            lineNo,
            text: textLine,
            problem: `cannot include ${target}`,
            other: isOther,
          });
        }
        continue;
      }
      let typeTok = t.tok ?? '';
      if (typeTok.startsWith('-')) {
        silent = true;
        typeTok = typeTok.slice(1);
      }
      const known = TYPES[typeTok.toLowerCase()];
      if (known) type = known;
      else {
        // "illegal module type": installed as a failing entry of the requested type, auth when any ("most sensitive").
        type = requested === 'any' ? 'auth' : requested;
        mustFail = `illegal module type "${typeTok}"`;
      }
      if (requested !== 'any' && type !== requested) continue;

      t = nextToken(t.rest);
      let actions: number[];
      let include = false;
      let substack = false;
      let controlProblem: string | undefined;
      if (t.tok === undefined) {
        actions = bad();
        mustFail ??= 'no control flag';
      } else if (!t.bracket && t.tok.toLowerCase() === 'include') {
        include = true;
        actions = new Array<number>(RETURN_VALUES).fill(ACTION_UNDEF);
      } else if (!t.bracket && t.tok.toLowerCase() === 'substack') {
        include = substack = true;
        actions = new Array<number>(RETURN_VALUES).fill(ACTION_UNDEF);
      } else {
        const c = t.bracket ? parseControl(undefined, t.tok) : parseControl(t.tok);
        actions = c.actions;
        controlProblem = c.error;
      }
      const modTok = nextToken(t.rest);
      if (include && !mustFail) {
        if (substack)
          handlers.push({
            kind: 'substack',
            type,
            stackLevel,
            actions,
            args: [],
            silent,
            file: path,
            lineNo,
            text: textLine,
            other: isOther,
          });
        if (
          modTok.tok &&
          (await includeFile(modTok.tok, where, isOther, type, includeLevel + 1, stackLevel + (substack ? 1 : 0)))
        )
          continue;
        setDefaultControl(actions, ACTION_BAD);
        handlers.push({
          kind: 'must_fail',
          type,
          stackLevel,
          actions,
          args: [],
          silent,
          file: path,
          lineNo,
          text: textLine,
          problem: `cannot ${substack ? 'substack' : 'include'} ${modTok.tok ?? '(no name)'}`,
          other: isOther,
        });
        continue;
      }
      if (!modTok.tok && !mustFail) mustFail = 'no module name';
      if (controlProblem) problems.push(`${where}: ${controlProblem}`);
      if (mustFail) {
        setDefaultControl(actions, ACTION_BAD);
        problems.push(`${where}: ${mustFail}; libpam fails this entry every time`);
        handlers.push({
          kind: 'must_fail',
          type,
          stackLevel,
          actions,
          module: modTok.tok,
          args: [],
          silent,
          file: path,
          lineNo,
          text: textLine,
          problem: mustFail,
          other: isOther,
        });
        continue;
      }
      const module = modTok.tok!;
      const modulePath = module.startsWith('/') ? module : `${opts.moduleDir}${module}`;
      handlers.push({
        kind: 'module',
        type,
        stackLevel,
        actions,
        module,
        modulePath,
        moduleName: moduleNameOf(module),
        args: splitArgs(modTok.rest),
        silent,
        file: path,
        lineNo,
        text: textLine,
        problem: controlProblem,
        other: isOther,
      });
    }
    return true;
  };

  const bad = (): number[] => new Array<number>(RETURN_VALUES).fill(ACTION_BAD);

  /** _pam_load_conf_file: depth limits, then open and parse. */
  const includeFile = async (
    name: string,
    where: string,
    isOther: boolean,
    type: PamType | 'any',
    includeLevel: number,
    stackLevel: number,
  ): Promise<boolean> => {
    // libpam 1.6+ stops at 16 nested includes; before 1.6 only substacks were counted and an include
    // loop recursed until the process crashed. Either way no login gets through.
    if (includeLevel >= MAX_LEVEL || stackLevel >= MAX_LEVEL) {
      problems.push(
        `${where}: more than ${MAX_LEVEL} nested include/substack levels (a loop?); libpam fails here (versions before 1.6 crash on an include loop)`,
      );
      return false;
    }
    const f = await open(name, where);
    if ('error' in f) {
      problems.push(`${where}: cannot open ${f.path} (${f.error}); libpam fails this entry every time`);
      return false;
    }
    return parse(f.text, f.path, isOther, type, includeLevel, stackLevel);
  };

  let startFailure: string | undefined;
  let readSomething = false;
  const own = await open(service, '');
  let ok = true;
  if (!('error' in own)) {
    ok = await parse(own.text, own.path, false, 'any', 0, 0);
    if (!ok) startFailure = `libpam cannot read ${own.path}, so pam_start fails`;
    else readSomething = true;
  } else if (own.error !== 'ENOENT') {
    // fopen failing for another reason (EACCES) is treated like a missing file: libpam falls back to other.
    problems.push(
      `${own.path}: cannot be read (${own.error}); libpam uses ${posix.join(opts.pamDir, 'other')} instead`,
    );
  }
  if (ok) {
    const other = await open('other', '');
    if (!('error' in other)) {
      if (await parse(other.text, other.path, true, 'any', 0, 0)) readSomething = true;
      else startFailure = `libpam cannot read ${other.path}, so pam_start fails`;
    }
    if (!readSomething && !startFailure)
      startFailure = `neither ${posix.join(opts.pamDir, service)} nor ${posix.join(opts.pamDir, 'other')} can be read, so pam_start fails`;
  }

  // One object per handler, so facts gathered for `handlers` apply to `auth`.
  const stripped = handlers.map((h) => {
    const { other, ...rest } = h;
    return { other, h: rest as PamHandler };
  });
  const mine = stripped.filter((x) => !x.other && x.h.type === 'auth').map((x) => x.h);
  const others = stripped.filter((x) => x.other && x.h.type === 'auth').map((x) => x.h);
  return {
    service,
    auth: mine.length > 0 ? mine : others,
    authFrom: mine.length > 0 ? 'service' : 'other',
    handlers: stripped.map((x) => x.h),
    files,
    startFailure,
    problems,
  };
}
