/**
 * Whether the node's PAM refuses an account's right password, and why: by default the login services
 * are read and judged as libpam would (pam/login-analysis.ts) and the strictest verdict is the
 * account's; with `counter` forced in the config, the legacy reading of that one counter is used.
 * Also lists every counter store the login services use, which is what unlock clears.
 */
import { readLockoutConfig, type CounterKind, type LockoutConfig } from './pam-config';
import type { LinuxContext } from './config';
import { assessFaillock, faillockPath, readFaillock } from './faillock';
import { NO_FAILURES, type FailureAssessment } from './failures';
import {
  judgeAccount,
  loadPamLayout,
  type AccountPamVerdict,
  type PamAnalysisOptions,
  type PamLayout,
} from './pam/login-analysis';
import { rootFs } from './pam/root-fs';
import { isGroupMember, type LocalAccount } from './shadow';
import { assessTally2, readTallyRecord } from './tallylog';
import type { ServiceVerdict } from './pam/service-verdict';

export interface LockoutVerdict {
  /** The counter of the strictest service; "unknown" when the layout cannot be read with confidence. */
  readonly counter: CounterKind | 'unknown';
  /** That counter's failures and lock. */
  readonly failures: FailureAssessment;
  readonly deny: number;
  /** PAM refuses every login of the account for a reason unlock cannot fix. */
  readonly pamRefuses?: string;
  /** Why the verdict is not certain. */
  readonly unknown?: string;
  /** Root or admin_group without even_deny_root: the counter never locks this account. */
  readonly adminExempt: boolean;
  /** linux.* details for the account state. */
  readonly details: Readonly<Record<string, string>>;
  readonly faillockDirs: readonly string[];
  readonly tallyFiles: readonly string[];
  /** The PAM reading behind it (absent when `counter` is forced). */
  readonly pam?: AccountPamVerdict;
  readonly layout?: PamLayout;
  readonly legacy?: LockoutConfig;
}

/** The analysis options of a context (the node's own root). */
export function pamAnalysisOptions(ctx: LinuxContext): PamAnalysisOptions {
  const c = ctx.config;
  return {
    fs: rootFs('/'),
    pamDir: c.pamDir,
    faillockConf: c.faillockConf,
    services: c.pamServices,
    moduleDir: c.pamModuleDir,
    groupPath: c.groupPath,
  };
}

/** One line per service for the state details: "accepts", "refuses: <why>", "unknown: <why>". */
export function serviceDetail(v: ServiceVerdict): string {
  if (v.verdict === 'accepts') return `accepts (${v.why})`;
  return `${v.verdict === 'refuses' ? (v.cause === 'counter' ? 'refuses (locked)' : 'refuses (PAM refuses every login)') : 'unknown'}: ${v.why}${v.decidedBy ? ` [${v.decidedBy}]` : ''}`;
}

async function legacyVerdict(local: LocalAccount, ctx: LinuxContext): Promise<LockoutVerdict> {
  const c = ctx.config;
  // Read from the login services (never a full scan of pamDir, which would read files PAM never opens).
  const services =
    c.pamServices.length > 0
      ? c.pamServices
      : (await loadPamLayout(pamAnalysisOptions(ctx))).services.map((s) => s.service);
  const lockout = await readLockoutConfig(
    { pamDir: c.pamDir, faillockConf: c.faillockConf, pamServices: services, tallylogPath: c.tallylogPath },
    c.counter,
  );
  const now = ctx.clock.now();
  const details: Record<string, string> = { 'linux.counter_source': `forced by config (counter: ${c.counter})` };
  if (lockout.warnings.length > 0) details['linux.config_warnings'] = lockout.warnings.join('; ');
  if (lockout.counter === 'faillock') {
    const s = lockout.faillock;
    const isAdmin =
      local.passwd.uid === 0 || (s.adminGroup ? await isGroupMember(s.adminGroup, local.passwd, c.groupPath) : false);
    const failures = assessFaillock(await readFaillock(s.dir, local.passwd.name), s, isAdmin, now);
    details['linux.counter_file'] = faillockPath(s.dir, local.passwd.name);
    details['linux.unlock_time'] = s.unlockTime === 0 ? 'never' : String(s.unlockTime);
    return {
      counter: 'faillock',
      failures,
      deny: s.deny,
      adminExempt: isAdmin && !s.evenDenyRoot,
      details,
      faillockDirs: [s.dir],
      tallyFiles: [],
      legacy: lockout,
    };
  }
  if (lockout.counter === 'tally2') {
    const s = lockout.tally2;
    const failures = assessTally2(await readTallyRecord(s.file, local.passwd.uid), s, local.passwd.uid, now);
    details['linux.counter_file'] = s.file;
    details['linux.unlock_time'] = s.unlockTime === 0 ? 'never' : String(s.unlockTime);
    return {
      counter: 'tally2',
      failures,
      deny: s.deny,
      adminExempt: local.passwd.uid === 0 && !s.evenDenyRoot,
      details,
      faillockDirs: [],
      tallyFiles: [s.file],
      legacy: lockout,
    };
  }
  return {
    counter: 'none',
    failures: NO_FAILURES,
    deny: 0,
    adminExempt: false,
    details,
    faillockDirs: [],
    tallyFiles: [],
    legacy: lockout,
  };
}

/** Judges `local` on this node. Throws FP_PAM_CONFIG_UNREADABLE only when the PAM directory is unreadable. */
export async function judgeLockout(
  local: LocalAccount,
  ctx: LinuxContext,
  layout?: PamLayout,
): Promise<LockoutVerdict> {
  if (ctx.config.counter !== 'auto') return legacyVerdict(local, ctx);
  const opts = pamAnalysisOptions(ctx);
  layout ??= await loadPamLayout(opts);
  const pam = await judgeAccount(layout, local.passwd, opts, ctx.clock.now());
  const details: Record<string, string> = {};
  for (const v of pam.services) details[`linux.pam.${v.service}`] = serviceDetail(v);
  const c = pam.counter;
  if (c) {
    details['linux.counter_line'] = `${c.where}: ${c.settingsText}`;
    details['linux.counter_file'] = c.kind === 'faillock' ? faillockPath(c.store, local.passwd.name) : c.store;
    details['linux.unlock_time'] = c.unlockTime === 0 ? 'never' : String(c.unlockTime);
    if (c.failInterval !== undefined) details['linux.fail_interval'] = String(c.failInterval);
  }
  if (pam.strictest) details['linux.strictest_service'] = pam.strictest.service;
  if (pam.pamRefuses) details['linux.pam_refuses'] = `${pam.pamRefuses.service}: ${pam.pamRefuses.why}`;
  if (pam.unknown) details['linux.counter_unknown'] = pam.unknown;
  const failures: FailureAssessment = c
    ? {
        failures: c.failures,
        lastFailure: c.lastFailure,
        lastFailureSource: c.lastFailureSource,
        locked: pam.counterLock !== undefined,
        lockEnds: pam.counterLock?.lockEnds,
        lockPermanent: pam.counterLock?.permanent ?? false,
      }
    : NO_FAILURES;
  const exempt = c?.exempt ?? false;
  return {
    counter: pam.unknown ? 'unknown' : (c?.kind ?? 'none'),
    failures,
    deny: c?.deny ?? 0,
    pamRefuses: pam.pamRefuses ? `${pam.pamRefuses.service}: ${pam.pamRefuses.why}` : undefined,
    unknown: pam.unknown,
    adminExempt: exempt,
    details,
    faillockDirs: pam.faillockDirs,
    tallyFiles: pam.tallyFiles,
    pam,
    layout,
  };
}
