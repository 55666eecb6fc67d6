/**
 * libpam's return codes and stack actions, with the names PAM configuration files use for them
 * (libpam/pam_tokens.h, libpam/pam_private.h of Linux-PAM 1.3-1.7: the values did not change).
 */

/** _pam_token_returns, index = PAM return code; "default" is index RETURN_VALUES. */
export const RETURN_NAMES = [
  'success',
  'open_err',
  'symbol_err',
  'service_err',
  'system_err',
  'buf_err',
  'perm_denied',
  'auth_err',
  'cred_insufficient',
  'authinfo_unavail',
  'user_unknown',
  'maxtries',
  'new_authtok_reqd',
  'acct_expired',
  'session_err',
  'cred_unavail',
  'cred_expired',
  'cred_err',
  'no_module_data',
  'conv_err',
  'authtok_err',
  'authtok_recover_err',
  'authtok_lock_busy',
  'authtok_disable_aging',
  'try_again',
  'ignore',
  'abort',
  'authtok_expired',
  'module_unknown',
  'bad_item',
  'conv_again',
  'incomplete',
  'default',
] as const;
export const RETURN_VALUES = 32;

export const PAM_SUCCESS = 0;
export const PAM_SERVICE_ERR = 3;
export const PAM_SYSTEM_ERR = 4;
export const PAM_PERM_DENIED = 6;
export const PAM_AUTH_ERR = 7;
export const PAM_AUTHINFO_UNAVAIL = 9;
export const PAM_USER_UNKNOWN = 10;
export const PAM_NEW_AUTHTOK_REQD = 12;
export const PAM_IGNORE = 25;
export const PAM_MODULE_UNKNOWN = 28;
/** PAM_MUST_FAIL_CODE in pam_private.h. */
export const PAM_MUST_FAIL_CODE = PAM_PERM_DENIED;

/** _pam_token_actions: 0 ignore, -1 ok, -2 done, -3 bad, -4 die, -5 reset; > 0 is a jump. */
export const ACTION_IGNORE = 0;
export const ACTION_OK = -1;
export const ACTION_DONE = -2;
export const ACTION_BAD = -3;
export const ACTION_DIE = -4;
export const ACTION_RESET = -5;
export const ACTION_UNDEF = -6;
const ACTION_NAMES = ['ignore', 'ok', 'done', 'bad', 'die', 'reset'];

/** A return code's configuration name ("auth_err"). */
export function returnName(code: number): string {
  return RETURN_NAMES[code] ?? `code ${code}`;
}

/** _pam_set_default_control: every action still undefined becomes `action`. */
export function setDefaultControl(actions: number[], action: number): void {
  for (let i = 0; i < RETURN_VALUES; i++) if (actions[i] === ACTION_UNDEF) actions[i] = action;
}

/**
 * The actions array of a control field, as _pam_parse_conf_file builds it for required, requisite,
 * optional and sufficient, and as _pam_parse_control (libpam/pam_misc.c) parses "[value=action ...]"
 * (prefix matching in table order, a syntax error makes every value "bad"). `bracket` is the text
 * between the brackets; undefined for a keyword. Returns undefined for an unknown keyword (libpam then
 * parses it as a bracket list, which fails, so every value is "bad").
 */
export function parseControl(keyword: string | undefined, bracket?: string): { actions: number[]; error?: string } {
  const a = new Array<number>(RETURN_VALUES).fill(ACTION_UNDEF);
  if (bracket === undefined) {
    switch ((keyword ?? '').toLowerCase()) {
      case 'required':
        a[PAM_SUCCESS] = ACTION_OK;
        a[PAM_NEW_AUTHTOK_REQD] = ACTION_OK;
        a[PAM_IGNORE] = ACTION_IGNORE;
        setDefaultControl(a, ACTION_BAD);
        return { actions: a };
      case 'requisite':
        a[PAM_SUCCESS] = ACTION_OK;
        a[PAM_NEW_AUTHTOK_REQD] = ACTION_OK;
        a[PAM_IGNORE] = ACTION_IGNORE;
        setDefaultControl(a, ACTION_DIE);
        return { actions: a };
      case 'optional':
        a[PAM_SUCCESS] = ACTION_OK;
        a[PAM_NEW_AUTHTOK_REQD] = ACTION_OK;
        setDefaultControl(a, ACTION_IGNORE);
        return { actions: a };
      case 'sufficient':
        a[PAM_SUCCESS] = ACTION_DONE;
        a[PAM_NEW_AUTHTOK_REQD] = ACTION_DONE;
        setDefaultControl(a, ACTION_IGNORE);
        return { actions: a };
      default:
        bracket = keyword ?? '';
    }
  }
  let tok = bracket;
  const fail = (why: string) => ({
    actions: new Array<number>(RETURN_VALUES).fill(ACTION_BAD),
    error: `bad control "${bracket}": ${why}`,
  });
  for (;;) {
    tok = tok.replace(/^\s+/, '');
    if (!tok) break;
    const ret = RETURN_NAMES.findIndex((n) => tok.startsWith(n));
    if (ret < 0 || tok.length === RETURN_NAMES[ret].length) return fail('expecting return value');
    tok = tok.slice(RETURN_NAMES[ret].length).replace(/^\s+/, '');
    if (!tok.startsWith('=')) return fail("expecting '='");
    tok = tok.slice(1).replace(/^\s+/, '');
    if (!tok) return fail('expecting action');
    let act = ACTION_NAMES.findIndex((n) => tok.startsWith(n));
    if (act >= 0) {
      tok = tok.slice(ACTION_NAMES[act].length);
      act = act === 0 ? ACTION_IGNORE : -act;
    } else {
      const m = /^\d+/.exec(tok);
      if (!m) return fail('expecting jump number');
      act = Number(m[0]);
      tok = tok.slice(m[0].length);
      if (act === 0) return fail('expecting non-zero');
    }
    if (ret === RETURN_VALUES) setDefaultControl(a, act);
    else a[ret] = act;
  }
  // "by default the default is to treat as failure" (_pam_parse_conf_file)
  setDefaultControl(a, ACTION_BAD);
  return { actions: a };
}
