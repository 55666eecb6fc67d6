import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ACTION_BAD,
  ACTION_DIE,
  ACTION_DONE,
  ACTION_IGNORE,
  ACTION_OK,
  PAM_AUTH_ERR,
  PAM_IGNORE,
  PAM_MUST_FAIL_CODE,
  PAM_NEW_AUTHTOK_REQD,
  PAM_SUCCESS,
  PAM_USER_UNKNOWN,
  parseControl,
} from './codes';
import { dispatchAll, type ModuleOracle } from './dispatch';
import { rootFs } from './root-fs';
import { assembleLines, loadService, nextToken, type PamHandler } from './service-loader';

const OPTS = { pamDir: '/etc/pam.d', moduleDir: '/lib64/security/' };
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'fp-pamstack-'));
  mkdirSync(join(root, 'etc/pam.d'), { recursive: true });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));
const pam = (name: string, text: string) => writeFileSync(join(root, 'etc/pam.d', name), text);

describe('control fields (pam_handlers.c, _pam_parse_control)', () => {
  it('maps the keywords to libpam actions', () => {
    const req = parseControl('required').actions;
    expect([req[PAM_SUCCESS], req[PAM_IGNORE], req[PAM_AUTH_ERR]]).toEqual([ACTION_OK, ACTION_IGNORE, ACTION_BAD]);
    expect(parseControl('requisite').actions[PAM_AUTH_ERR]).toBe(ACTION_DIE);
    const suf = parseControl('Sufficient').actions;
    expect([suf[PAM_SUCCESS], suf[PAM_NEW_AUTHTOK_REQD], suf[PAM_AUTH_ERR]]).toEqual([
      ACTION_DONE,
      ACTION_DONE,
      ACTION_IGNORE,
    ]);
    expect(parseControl('optional').actions[PAM_AUTH_ERR]).toBe(ACTION_IGNORE);
  });

  it('parses brackets with jumps and defaults; anything unparsable makes every value bad', () => {
    const a = parseControl(undefined, 'success=2 default=ignore').actions;
    expect([a[PAM_SUCCESS], a[PAM_AUTH_ERR], a[PAM_USER_UNKNOWN]]).toEqual([2, ACTION_IGNORE, ACTION_IGNORE]);
    const b = parseControl(undefined, 'success=ok user_unknown=ignore').actions;
    expect(b[PAM_AUTH_ERR]).toBe(ACTION_BAD); // "by default the default is to treat as failure"
    const bad = parseControl(undefined, 'success=0 default=ignore');
    expect(bad.error).toMatch(/non-zero/);
    expect(bad.actions.every((x) => x === ACTION_BAD)).toBe(true);
    expect(parseControl('requird').actions.every((x) => x === ACTION_BAD)).toBe(true);
  });
});

describe('line assembly and tokens (_pam_assemble_line, _pam_StrTok)', () => {
  it('joins "\\" continuations, cuts at the first #, skips comments', () => {
    expect(assembleLines('# c\nauth required pam_x.so a \\\n  b # tail\n\n  auth sufficient pam_y.so\n')).toEqual([
      { lineNo: 2, line: 'auth required pam_x.so a    b ' },
      { lineNo: 5, line: '  auth sufficient pam_y.so' },
    ]);
    expect(assembleLines(`auth required pam_x.so ${'a'.repeat(1100)}\n`)).toBeNull();
    expect(assembleLines('auth required pam_x.so \\')).toBeNull();
  });

  it('takes "[...]" as one token with "\\]" kept', () => {
    expect(nextToken('  [success=1 default=bad] pam_unix.so')).toEqual({
      tok: 'success=1 default=bad',
      bracket: true,
      rest: ' pam_unix.so',
    });
    expect(nextToken('[a\\]b] x').tok).toBe('a]b');
  });
});

describe('loading a service as pam_start does', () => {
  it('follows include (same type only), substack levels, Debian @include and symlinks; never opens other files', async () => {
    mkdirSync(join(root, 'etc/authselect'));
    writeFileSync(
      join(root, 'etc/authselect/password-auth'),
      'auth required pam_env.so\naccount required pam_unix.so\n',
    );
    const { symlinkSync } = await import('node:fs');
    symlinkSync('/etc/authselect/password-auth', join(root, 'etc/pam.d/password-auth'));
    pam('sshd', 'auth substack password-auth\nauth include common\n@include common-account\n');
    pam('common', 'auth sufficient pam_unix.so\nsession required pam_limits.so\n');
    pam('common-account', 'account required pam_permit.so\nauth required pam_deny.so\n');
    pam('sshd.rpmsave', 'auth required pam_faillock.so deny=1\n');
    pam('other', 'auth required pam_deny.so\n');
    const s = await loadService(rootFs(root), 'sshd', OPTS);
    expect(s.auth.map((h) => [h.kind, h.moduleName ?? '', h.stackLevel])).toEqual([
      ['substack', '', 0],
      ['module', 'pam_env', 1],
      ['module', 'pam_unix', 0],
      ['module', 'pam_deny', 0],
    ]);
    expect(s.authFrom).toBe('service');
    expect(s.files.map((f) => [f.path, f.realPath])).toEqual([
      ['/etc/pam.d/sshd', '/etc/pam.d/sshd'],
      ['/etc/pam.d/password-auth', '/etc/authselect/password-auth'],
      ['/etc/pam.d/common', '/etc/pam.d/common'],
      ['/etc/pam.d/common-account', '/etc/pam.d/common-account'],
      ['/etc/pam.d/other', '/etc/pam.d/other'],
    ]);
    expect(s.files.some((f) => f.path.includes('rpmsave'))).toBe(false);
  });

  it('uses other for a type the service has no lines for, and when the service file is missing', async () => {
    pam('xrdp-sesman', '#auth include password-auth\naccount required pam_permit.so\n');
    pam('other', 'auth required pam_warn.so\nauth required pam_deny.so\n');
    const s = await loadService(rootFs(root), 'xrdp-sesman', OPTS);
    expect([s.authFrom, s.auth.map((h) => h.moduleName)]).toEqual(['other', ['pam_warn', 'pam_deny']]);
    const missing = await loadService(rootFs(root), 'cockpit', OPTS);
    expect(missing.authFrom).toBe('other');
    expect(missing.startFailure).toBeUndefined();
  });

  it('turns a missing include, an illegal type and a substack loop into entries that always fail', async () => {
    pam('a', 'auth include nowhere\nauht required pam_unix.so\n');
    const a = await loadService(rootFs(root), 'a', OPTS);
    expect(a.auth.map((h) => [h.kind, h.problem])).toEqual([
      ['must_fail', 'cannot include nowhere'],
      ['must_fail', 'illegal module type "auht"'],
    ]);
    pam('b', 'auth substack c\n');
    pam('c', 'auth substack b\n');
    const b = await loadService(rootFs(root), 'b', OPTS);
    expect(b.auth.filter((h) => h.kind === 'must_fail')).toHaveLength(1);
    expect(b.problems.join(' ')).toMatch(/more than 16 nested/);
  });

  it('fails pam_start when neither the service nor other can be read', async () => {
    const s = await loadService(rootFs(root), 'sshd', OPTS);
    expect(s.startFailure).toMatch(/neither/);
  });
});

describe('dispatch (_pam_dispatch_aux)', () => {
  const h = (control: string, name: string, stackLevel = 0): PamHandler => {
    const c = control.startsWith('[') ? parseControl(undefined, control.slice(1, -1)) : parseControl(control);
    return {
      kind: 'module',
      type: 'auth',
      stackLevel,
      actions: c.actions,
      moduleName: name,
      module: `${name}.so`,
      modulePath: `/x/${name}.so`,
      args: [],
      silent: false,
      file: 'f',
      lineNo: 1,
      text: `${control} ${name}`,
    };
  };
  const codes: Record<string, number[]> = {
    ok: [PAM_SUCCESS],
    fail: [PAM_AUTH_ERR],
    ign: [PAM_IGNORE],
    either: [PAM_SUCCESS, PAM_AUTH_ERR],
  };
  const oracle: ModuleOracle = (x) =>
    (codes[x.moduleName!.split('-')[0]] ?? []).map((code) => ({ code, why: x.moduleName! }));
  const run = (chain: PamHandler[]) => dispatchAll(chain, oracle)!.map((r) => r.status);

  it('required failures do not stop the stack but decide it; requisite stops; sufficient ends on success', () => {
    expect(run([h('required', 'fail'), h('sufficient', 'ok'), h('required', 'ok')])).toEqual([PAM_AUTH_ERR]);
    expect(run([h('required', 'ok'), h('sufficient', 'ok-2'), h('required', 'fail')])).toEqual([PAM_SUCCESS]);
    const r = dispatchAll([h('requisite', 'fail'), h('required', 'ok')], oracle)!;
    expect(r[0].steps).toHaveLength(1);
  });

  it('jumps over entries, counting a substack as one, and keeps "done" inside the substack', () => {
    expect(run([h('[success=1 default=ignore]', 'ok'), h('requisite', 'fail'), h('required', 'ok-2')])).toEqual([
      PAM_SUCCESS,
    ]);
    const sub: PamHandler = { ...h('required', 'x'), kind: 'substack', moduleName: undefined };
    expect(run([sub, h('sufficient', 'ok', 1), h('required', 'fail', 1), h('required', 'fail-2', 0)])).toEqual([
      PAM_AUTH_ERR,
    ]);
    expect(run([h('[success=5 default=ignore]', 'ok')])).toEqual([PAM_MUST_FAIL_CODE]);
  });

  it('fails a stack where nothing succeeded, and walks every outcome of an uncertain module', () => {
    expect(run([h('optional', 'ign')])).toEqual([PAM_MUST_FAIL_CODE]);
    expect(run([h('sufficient', 'either'), h('required', 'fail')])).toEqual([PAM_SUCCESS, PAM_AUTH_ERR]);
  });
});
