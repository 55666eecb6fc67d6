/**
 * What each PAM module's pam_sm_authenticate returns for one account typing the RIGHT password, as far as
 * it can be known from the node's files (the Linux-PAM sources of each module; sssd, fprintd and other
 * services cannot be asked, so those offer every plausible answer and the verdict holds only if all agree).
 * Password locks and expiry are judged from /etc/shadow elsewhere, so pam_unix is taken to succeed.
 */
import {
  PAM_AUTH_ERR,
  PAM_AUTHINFO_UNAVAIL,
  PAM_IGNORE,
  PAM_MODULE_UNKNOWN,
  PAM_SERVICE_ERR,
  PAM_SUCCESS,
  PAM_SYSTEM_ERR,
  PAM_USER_UNKNOWN,
} from './codes';
import type { ModuleOutcome } from './dispatch';
import type { FaillockLine } from './faillock-line';
import type { PamHandler } from './service-loader';
import { checkTally2, type Tally2Line } from './tally2-line';
import type { FailureAssessment } from '../failures';

/** The account as the modules see it. */
export interface AuthAccount {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly shell: string;
  readonly home: string;
  /** Names of every group the account is in (primary included). */
  readonly groups: readonly string[];
}

/** pam_faillock's view of one line: parsed line plus check_tally on the records. */
export interface FaillockFacts {
  readonly line: FaillockLine;
  /** check_tally's verdict (undefined when the line failed to parse). */
  readonly assessment?: FailureAssessment;
  /** The admin exemption applies (root or admin_group without even_deny_root). */
  readonly exempt?: boolean;
  /** The tally file could not be read (not ENOENT/EACCES): PAM_SYSTEM_ERR. */
  readonly ioError?: string;
}

export interface Tally2Facts {
  readonly line: Tally2Line;
  readonly stored: { count: number; time: number };
  readonly fileProblem?: string;
  /** The record could not be decoded (pam_tally2 would use the bytes as they are): uncertain. */
  readonly unreadable?: string;
}

/** Everything the models need, gathered (asynchronously) beforehand. */
export interface ModelContext {
  readonly account: AuthAccount;
  readonly service: string;
  /** pam_rootok, magic_root and use_uid look at the calling process: root for daemons (sshd, login), the user for su/sudo. */
  readonly callerIsRoot: boolean;
  readonly nowS: number;
  readonly moduleExists: (h: PamHandler) => boolean;
  readonly faillock: (h: PamHandler) => FaillockFacts | undefined;
  readonly tally2: (h: PamHandler) => Tally2Facts | undefined;
  readonly nologinFile?: string;
  /** UID_MIN of /etc/login.defs (pam_usertype). */
  readonly uidMin: number;
}

/** A counter decision, recorded so the verdict can say which counter locked the account. */
export const COUNTER_LOCK = ' [counter lock]';

const one = (code: number, why: string): ModuleOutcome[] => [{ code, why }];
const any = (name: string, codes: readonly number[], why: string): ModuleOutcome[] =>
  codes.map((code) => ({ code, why: `${name}: ${why}` }));

/** pam_succeed_if's conditions for the fields it can know here; undefined when a condition cannot be decided. */
function succeedIf(h: PamHandler, ctx: ModelContext): boolean | undefined {
  const args = h.args.filter((a) => !['debug', 'use_uid', 'quiet', 'quiet_fail', 'quiet_success', 'audit'].includes(a));
  if (h.args.includes('use_uid') && !ctx.callerIsRoot) return undefined;
  const acct = h.args.includes('use_uid')
    ? { name: 'root', uid: 0, gid: 0, shell: '', home: '', groups: ['root'] }
    : ctx.account;
  const field = (f: string): string | undefined =>
    (
      ({
        user: acct.name,
        uid: String(acct.uid),
        gid: String(acct.gid),
        shell: acct.shell,
        home: acct.home,
        service: ctx.service,
      }) as Record<string, string>
    )[f];
  const glob = (p: string, v: string) =>
    new RegExp(
      `^${p
        .replace(/[.+^${}()|\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    ).test(v);
  let result = true;
  for (let i = 0; i < args.length;) {
    const [l, op, r] = [args[i], args[i + 1], args[i + 2]];
    if (op === undefined || r === undefined) return undefined;
    i += 3;
    const v = field(l);
    if (v === undefined) return undefined;
    const n = Number(v);
    const rn = Number(r);
    let ok: boolean;
    switch (op) {
      case '<':
        ok = n < rn;
        break;
      case '<=':
        ok = n <= rn;
        break;
      case '>':
        ok = n > rn;
        break;
      case '>=':
        ok = n >= rn;
        break;
      case 'eq':
        ok = n === rn;
        break;
      case 'ne':
        ok = n !== rn;
        break;
      case '=':
        ok = v === r;
        break;
      case '!=':
        ok = v !== r;
        break;
      case '=~':
        ok = glob(r, v);
        break;
      case '!~':
        ok = !glob(r, v);
        break;
      case 'in':
        ok = r.split(':').includes(v);
        break;
      case 'notin':
        ok = !r.split(':').includes(v);
        break;
      case 'ingroup':
        ok = l === 'user' && acct.groups.includes(r);
        break;
      case 'notingroup':
        ok = l === 'user' && !acct.groups.includes(r);
        break;
      default:
        return undefined;
    }
    if (['<', '<=', '>', '>=', 'eq', 'ne'].includes(op) && (Number.isNaN(n) || Number.isNaN(rn))) return undefined;
    result &&= ok;
  }
  return result;
}

/** Outcomes of pam_faillock for this line. */
function faillock(h: PamHandler, ctx: ModelContext): ModuleOutcome[] {
  const f = ctx.faillock(h);
  if (!f) return one(PAM_SERVICE_ERR, 'pam_faillock: not evaluated');
  if (!f.line.ok) return one(PAM_SERVICE_ERR, f.line.why);
  if (f.ioError) return one(PAM_SYSTEM_ERR, `pam_faillock: ${f.ioError}`);
  const { action, settings: s } = f.line;
  const a = f.assessment!;
  const what = `pam_faillock ${action}${f.line.implicitAction ? ' (no action word: preauth)' : ''} deny=${s.deny} unlock_time=${s.unlockTime || 'never'}`;
  if (a.locked) return one(PAM_AUTH_ERR, `${what}: ${a.failures} failures lock the account${COUNTER_LOCK}`);
  const state = f.exempt ? `${a.failures} failures (exempt: admin without even_deny_root)` : `${a.failures} failures`;
  return one(
    action === 'authfail' ? PAM_IGNORE : PAM_SUCCESS,
    `${what}: ${state}${action === 'authfail' ? ', records one more failure' : ''}`,
  );
}

function tally2(h: PamHandler, ctx: ModelContext): ModuleOutcome[] {
  const t = ctx.tally2(h);
  if (!t) return one(PAM_AUTH_ERR, 'pam_tally2: not evaluated');
  if (t.unreadable) return any('pam_tally2', [PAM_SUCCESS, PAM_AUTH_ERR], t.unreadable);
  const c = checkTally2(t.line, ctx.account.uid, t.stored, t.fileProblem, ctx.callerIsRoot, ctx.nowS);
  const code = c.refuses ? PAM_AUTH_ERR : PAM_SUCCESS;
  return one(code, `pam_tally2 deny=${t.line.settings.deny}: ${c.why}${c.refuses && c.byCounter ? COUNTER_LOCK : ''}`);
}

/** The model of one handler's module (the handler is a `module` entry). */
export function moduleOutcomes(h: PamHandler, ctx: ModelContext): readonly ModuleOutcome[] {
  if (!ctx.moduleExists(h)) {
    return one(
      PAM_MODULE_UNKNOWN,
      `${h.modulePath} does not exist, so libpam keeps a faulty entry that answers PAM_MODULE_UNKNOWN${h.silent ? ' ("-" only silences the log)' : ''}`,
    );
  }
  const name = h.moduleName ?? '';
  const acct = ctx.account;
  switch (name) {
    case 'pam_unix':
    case 'pam_unix2':
      return one(PAM_SUCCESS, `${name}: the right password`);
    case 'pam_deny':
      return one(PAM_AUTH_ERR, 'pam_deny: always fails');
    case 'pam_permit':
      return one(PAM_SUCCESS, 'pam_permit: always succeeds');
    case 'pam_env':
    case 'pam_faildelay':
    case 'pam_group':
    case 'pam_warn':
    case 'pam_echo':
      return one(PAM_IGNORE, `${name}: does not decide authentication`);
    case 'pam_faillock':
      return faillock(h, ctx);
    case 'pam_tally2':
      return tally2(h, ctx);
    case 'pam_nologin':
      if (ctx.nologinFile && acct.uid !== 0)
        return one(PAM_AUTH_ERR, `pam_nologin: ${ctx.nologinFile} exists, so only root may log in`);
      return any('pam_nologin', [PAM_IGNORE, PAM_SUCCESS], 'no nologin file');
    case 'pam_localuser':
      return one(PAM_SUCCESS, 'pam_localuser: the account is in /etc/passwd');
    case 'pam_usertype': {
      const regular = acct.uid >= ctx.uidMin && acct.uid !== 65534;
      const system = acct.uid < ctx.uidMin;
      if (h.args.includes('isregular'))
        return one(
          regular ? PAM_SUCCESS : PAM_AUTH_ERR,
          `pam_usertype isregular: uid ${acct.uid} ${regular ? 'is' : 'is not'} a regular user (UID_MIN ${ctx.uidMin})`,
        );
      if (h.args.includes('issystem'))
        return one(
          system ? PAM_SUCCESS : PAM_AUTH_ERR,
          `pam_usertype issystem: uid ${acct.uid} ${system ? 'is' : 'is not'} a system user (UID_MIN ${ctx.uidMin})`,
        );
      return any('pam_usertype', [PAM_SUCCESS, PAM_AUTH_ERR], 'no condition understood');
    }
    case 'pam_rootok':
      return one(
        ctx.callerIsRoot ? PAM_SUCCESS : PAM_AUTH_ERR,
        `pam_rootok: the caller of ${ctx.service} is ${ctx.callerIsRoot ? '' : 'not '}root`,
      );
    case 'pam_succeed_if': {
      const r = succeedIf(h, ctx);
      if (r === undefined)
        return any('pam_succeed_if', [PAM_SUCCESS, PAM_AUTH_ERR], `"${h.args.join(' ')}" cannot be decided here`);
      return one(r ? PAM_SUCCESS : PAM_AUTH_ERR, `pam_succeed_if ${h.args.join(' ')}: ${r ? 'true' : 'false'}`);
    }
    case 'pam_securetty':
      if (acct.uid !== 0) return one(PAM_SUCCESS, 'pam_securetty: not root');
      return any('pam_securetty', [PAM_SUCCESS, PAM_AUTH_ERR], 'root: depends on the terminal');
    case 'pam_shells':
      return any('pam_shells', [PAM_SUCCESS, PAM_AUTH_ERR], 'depends on /etc/shells');
    case 'pam_selinux_permit':
      return one(PAM_IGNORE, 'pam_selinux_permit: the account is not a permitted SELinux user');
    case 'pam_cockpit_cert':
      return any(name, [PAM_AUTHINFO_UNAVAIL, PAM_IGNORE], 'the login uses a password, not a client certificate');
    case 'pam_ssh_add':
    case 'pam_sepermit':
    case 'pam_gnome_keyring':
    case 'pam_cap':
    case 'pam_kwallet5':
    case 'pam_reauthorize':
      return any(name, [PAM_SUCCESS, PAM_IGNORE], 'does not check the password');
    case 'pam_systemd_home':
      return one(PAM_USER_UNKNOWN, 'pam_systemd_home: not a systemd-homed account');
    case 'pam_fprintd':
      return any(name, [PAM_AUTHINFO_UNAVAIL, PAM_AUTH_ERR], 'the user types a password, not a fingerprint');
    case 'pam_sss':
    case 'pam_ldap':
    case 'pam_krb5':
    case 'pam_winbind':
      return any(
        name,
        [PAM_USER_UNKNOWN, PAM_AUTHINFO_UNAVAIL, PAM_AUTH_ERR, PAM_SUCCESS],
        'asks a directory service, which cannot be known from files',
      );
    case 'pam_loginuid':
    case 'pam_keyinit':
    case 'pam_limits':
    case 'pam_selinux':
    case 'pam_namespace':
    case 'pam_systemd':
    case 'pam_umask':
    case 'pam_motd':
    case 'pam_mkhomedir':
    case 'pam_pwquality':
    case 'pam_pwhistory':
    case 'pam_cracklib':
      return one(PAM_MODULE_UNKNOWN, `${name} has no auth function, so libpam answers PAM_MODULE_UNKNOWN`);
    default:
      return any(name || 'module', [PAM_SUCCESS, PAM_AUTH_ERR, PAM_IGNORE], 'unknown module: any answer is possible');
  }
}
