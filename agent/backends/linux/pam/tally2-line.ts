/**
 * What one pam_tally2.so auth line does, per modules/pam_tally2/pam_tally2.c (Linux-PAM 1.4.0, the last
 * release with it; EL7 ships the same code): tally_parse_args starts from onerr=fail and stops at the
 * first bad argument (deny=abc, a relative file=), and RETURN_ERROR turns that error into PAM_AUTH_ERR
 * under onerr=fail (or PAM_SUCCESS under an onerr=succeed read BEFORE it); get_tally refuses a file that
 * is world-writable or not a regular file (lstat); tally_bump adds the failure before tally_check, so a
 * stored count >= deny refuses; magic_root skips the check when the calling process is root.
 */
import type { Tally2Settings } from '../pam-config';
import type { PamHandler } from './service-loader';

export interface Tally2Line {
  readonly settings: Tally2Settings;
  readonly failOnError: boolean;
  /** Set when tally_parse_args fails: every call returns RETURN_ERROR(PAM_AUTH_ERR). */
  readonly parseError?: string;
  readonly warnings: readonly string[];
}

export const TALLY2_DEFAULT_FILE = '/var/log/tallylog';

/** sscanf("%hu") / sscanf("%ld"): leading number or undefined. */
function scan(value: string, signed: boolean): number | undefined {
  const m = (signed ? /^\s*([+-]?\d+)/ : /^\s*\+?(\d+)/).exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  return signed ? n : n % 65536;
}

/** The numeric options: prefix, setting, sscanf signedness (%hu for deny, %ld for times). */
const NUMERIC: ReadonlyArray<readonly [string, 'deny' | 'lockTime' | 'unlockTime' | 'rootUnlockTime', boolean]> = [
  ['deny=', 'deny', false],
  ['lock_time=', 'lockTime', true],
  ['unlock_time=', 'unlockTime', true],
  ['root_unlock_time=', 'rootUnlockTime', true],
];

/** tally_parse_args for the auth phase. */
export function parseTally2Line(h: PamHandler): Tally2Line {
  const s = {
    file: TALLY2_DEFAULT_FILE,
    deny: 0,
    lockTime: 0,
    unlockTime: 0,
    rootUnlockTime: -1,
    evenDenyRoot: false,
    magicRoot: false,
  };
  let failOnError = true;
  const warnings: string[] = [];
  const where = `${h.file}:${h.lineNo}`;
  const done = (parseError?: string): Tally2Line => {
    const settings: Tally2Settings = {
      ...s,
      rootUnlockTime: s.rootUnlockTime === -1 ? s.unlockTime : s.rootUnlockTime,
    };
    return { settings, failOnError, parseError, warnings };
  };
  for (const arg of h.args) {
    if (arg.startsWith('file=')) {
      const f = arg.slice(5);
      if (!f.startsWith('/')) return done(`pam_tally2 at ${where}: file "${f}" is not absolute`);
      s.file = f;
    } else if (arg === 'onerr=fail') failOnError = true;
    else if (arg === 'onerr=succeed') failOnError = false;
    else if (arg === 'magic_root') s.magicRoot = true;
    else if (
      arg === 'serialize' ||
      arg === 'debug' ||
      arg === 'quiet' ||
      arg === 'silent' ||
      arg === 'no_log_info' ||
      arg === 'audit'
    )
      continue;
    else if (arg === 'even_deny_root' || arg === 'even_deny_root_account') s.evenDenyRoot = true;
    else if (NUMERIC.some(([prefix]) => arg.startsWith(prefix))) {
      const [prefix, key, signed] = NUMERIC.find(([p]) => arg.startsWith(p))!;
      const n = scan(arg.slice(prefix.length), signed);
      if (n === undefined) return done(`pam_tally2 at ${where}: bad number in "${arg}"`);
      s[key] = n;
      if (key === 'rootUnlockTime') s.evenDenyRoot = true; // "even_deny_root implied"
    } else warnings.push(`pam_tally2 at ${where}: unknown option "${arg}" (ignored)`);
  }
  return done();
}

export interface Tally2Check {
  readonly refuses: boolean;
  readonly why: string;
  /** The refusal is the counter's (it ends with a reset), not the file or the arguments. */
  readonly byCounter: boolean;
}

/**
 * tally_bump(1) + tally_check for the right password: `stored` is the record (count, time) read from
 * the file; `fileProblem` is get_tally's refusal of the file, if any.
 */
export function checkTally2(
  line: Tally2Line,
  uid: number,
  stored: { count: number; time: number },
  fileProblem: string | undefined,
  callerIsRoot: boolean,
  nowS: number,
): Tally2Check {
  const onErr = (why: string): Tally2Check =>
    line.failOnError
      ? { refuses: true, why: `${why}; with onerr=fail every login is refused`, byCounter: false }
      : { refuses: false, why: `${why}; onerr=succeed lets logins through uncounted`, byCounter: false };
  if (line.parseError) return onErr(line.parseError);
  if (fileProblem) return onErr(fileProblem);
  const s = line.settings;
  if (s.magicRoot && callerIsRoot)
    return {
      refuses: false,
      why: 'magic_root: the calling process is root, so pam_tally2 neither counts nor checks',
      byCounter: false,
    };
  const count = stored.count + 1;
  const old = stored.time;
  if (s.deny !== 0 && count > s.deny && (s.evenDenyRoot || uid !== 0)) {
    const unlock = uid !== 0 ? s.unlockTime : s.rootUnlockTime;
    if (unlock && old && unlock + old <= nowS)
      return {
        refuses: false,
        why: `${stored.count} failures, but unlock_time ${unlock}s has passed`,
        byCounter: false,
      };
    return { refuses: true, why: `${stored.count} failures on record (deny=${s.deny})`, byCounter: true };
  }
  if (s.lockTime && old && s.lockTime + old > nowS)
    return { refuses: true, why: `lock_time=${s.lockTime}s since the last failure has not passed`, byCounter: true };
  return { refuses: false, why: `${stored.count} failures on record (deny=${s.deny || 'off'})`, byCounter: false };
}
