/**
 * What one pam_faillock.so line does, per modules/pam_faillock/pam_faillock.c (Linux-PAM 1.4-1.7,
 * args_parse, read_config_file, check_tally, pam_sm_authenticate): the conf file (conf= or the built-in
 * /etc/security/faillock.conf) is read FIRST and module arguments override it; a line without an action
 * word is "preauth" (opts is memset to 0, FAILLOCK_ACTION_PREAUTH == 0); a conf= file that is missing or
 * unreadable, or a conf line longer than 1023 bytes, makes args_parse fail with PAM_SERVICE_ERR on every
 * call, before any tally is read; `authsucc` and `authfail` run check_tally too, so a lock refuses there.
 */
import { FAILLOCK_DEFAULTS, applyFaillockOption, type FaillockSettings } from '../pam-config';
import type { RootFs } from './root-fs';
import type { PamHandler } from './service-loader';

export type FaillockAction = 'preauth' | 'authsucc' | 'authfail';

export type FaillockLine =
  | {
      readonly ok: true;
      readonly action: FaillockAction;
      /** True when the line names no action and pam_faillock falls back to preauth. */
      readonly implicitAction: boolean;
      readonly settings: FaillockSettings;
      /** Where each setting came from: "default", "<conf>:<line>" or "argument". */
      readonly origins: Readonly<Record<string, string>>;
      readonly conf: string;
      readonly warnings: readonly string[];
    }
  | { readonly ok: false; readonly why: string };

const FAILLOCK_CONF_MAX_LINELEN = 1023;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Parses the line's arguments and conf file as args_parse does. */
export async function parseFaillockLine(h: PamHandler, fs: RootFs, defaultConf: string): Promise<FaillockLine> {
  const args = h.args;
  let conf = defaultConf;
  let confIndex = -1;
  args.forEach((a, i) => {
    if (a.startsWith('conf=')) {
      conf = a.slice('conf='.length);
      confIndex = i;
    }
  });
  const s: Mutable<FaillockSettings> & { rootUnlockSet?: boolean } = { ...FAILLOCK_DEFAULTS };
  const origins: Record<string, string> = {
    dir: 'default',
    deny: 'default',
    fail_interval: 'default',
    unlock_time: 'default',
    root_unlock_time: 'default (unlock_time)',
  };
  const warnings: string[] = [];
  const where = `${h.file}:${h.lineNo}`;
  const apply = (name: string, value: string, origin: string): void => {
    const before = JSON.stringify(s);
    applyFaillockOption(s, name, value, origin, warnings);
    if (JSON.stringify(s) !== before || name === 'even_deny_root') origins[name] = origin;
  };

  const r = await fs.read(conf);
  if (!r.ok) {
    // read_config_file: only a missing DEFAULT file is fine; conf= naming a missing file fails every call.
    if (!(r.code === 'ENOENT' && confIndex < 0)) {
      return {
        ok: false,
        why: `pam_faillock at ${where} cannot read its conf file ${conf} (${r.code}), so it answers PAM_SERVICE_ERR to every login`,
      };
    }
  } else {
    const lines = r.text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i];
      if (raw.length > FAILLOCK_CONF_MAX_LINELEN && !(i === lines.length - 1)) {
        return {
          ok: false,
          why: `${conf}:${i + 1} is longer than ${FAILLOCK_CONF_MAX_LINELEN} bytes, so pam_faillock at ${where} answers PAM_SERVICE_ERR to every login`,
        };
      }
      const line = raw.replace(/#.*$/, '').trim();
      if (!line) continue;
      const m = /^([^\s=]+)\s*(?:=\s*|\s+)?(.*)$/.exec(line);
      if (m) apply(m[1], m[2].trim(), `${conf}:${i + 1}`);
    }
  }
  let action: FaillockAction = 'preauth';
  let implicitAction = true;
  args.forEach((a, i) => {
    if (i === confIndex) return;
    if (a === 'preauth' || a === 'authsucc' || a === 'authfail') {
      action = a;
      implicitAction = false;
      return;
    }
    const eq = a.indexOf('=');
    apply(eq >= 0 ? a.slice(0, eq) : a, eq >= 0 ? a.slice(eq + 1) : '', `argument at ${where}`);
  });
  const { rootUnlockSet, ...settings } = s;
  if (!rootUnlockSet) settings.rootUnlockTime = settings.unlockTime;
  return { ok: true, action, implicitAction, settings, origins, conf, warnings };
}
