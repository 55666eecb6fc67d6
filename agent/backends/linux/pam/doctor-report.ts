/**
 * What `fleetpass-agent doctor` shows about the node's PAM, for the on-site technician and for support:
 * per login service the files libpam reads (and the symlinks on the way), the auth lines in the order
 * libpam runs them, the failure-counter lines with each setting's origin, and for each account the
 * verdict of every service, step by step, with the strictest one as the account's state.
 */
import { lockReasonToJSON, failureCounterToJSON } from '../../../../shared/gen/fleetpass/v1/common';
import type { LinuxContext } from '../config';
import { inspectLinux } from '../inspect';
import { pamAnalysisOptions } from '../lockout-verdict';
import { parseFaillockLine } from './faillock-line';
import { loadPamLayout } from './login-analysis';
import { parseTally2Line } from './tally2-line';

export interface DoctorService {
  readonly service: string;
  /** Whose auth lines run: the service's own, or `other`'s (the service has none). */
  readonly authFrom: 'service' | 'other';
  readonly startFailure?: string;
  readonly files: ReadonlyArray<{
    path: string;
    realPath?: string;
    links: readonly string[];
    error?: string;
    from: string;
  }>;
  readonly auth: ReadonlyArray<{ where: string; text: string; problem?: string }>;
  readonly counters: ReadonlyArray<{ where: string; module: string; settings: string; notes: readonly string[] }>;
  readonly problems: readonly string[];
}

export interface DoctorAccount {
  readonly account: string;
  readonly exists: boolean;
  readonly locked?: boolean;
  readonly reasons?: readonly string[];
  readonly counter?: string;
  readonly failures?: number;
  readonly deny?: number;
  readonly strictest?: string;
  readonly unknown?: string;
  readonly services: ReadonlyArray<{
    service: string;
    verdict: string;
    cause?: string;
    why: string;
    decidedBy?: string;
    steps: ReadonlyArray<{ where: string; text: string; result: string; why: string }>;
  }>;
  readonly error?: { code: string; message: string };
}

export interface DoctorReport {
  readonly pamDir: string;
  readonly moduleDir: string;
  readonly moduleDirWhy: string;
  readonly servicesWhy: string;
  readonly counterSetting: string;
  readonly unknown?: string;
  readonly services: readonly DoctorService[];
  readonly accounts: readonly DoctorAccount[];
}

/** Builds the report for `accounts` (read-only). */
export async function buildDoctorReport(ctx: LinuxContext, accounts: readonly string[]): Promise<DoctorReport> {
  const opts = pamAnalysisOptions(ctx);
  const layout = await loadPamLayout(opts);
  const services: DoctorService[] = [];
  for (const s of layout.services) {
    const counters: Array<DoctorService['counters'][number]> = [];
    for (const h of s.handlers) {
      if (h.kind !== 'module' || (h.moduleName !== 'pam_faillock' && h.moduleName !== 'pam_tally2')) continue;
      const where = `${h.file}:${h.lineNo}`;
      if (h.moduleName === 'pam_faillock') {
        const l = await parseFaillockLine(h, opts.fs, opts.faillockConf);
        if (!l.ok)
          counters.push({ where, module: `pam_faillock (${h.type})`, settings: 'fails every call', notes: [l.why] });
        else {
          const s2 = l.settings;
          const o = l.origins;
          const notes = [`conf file ${l.conf} is read first; module arguments override it`, ...l.warnings];
          if (l.implicitAction && h.type === 'auth') notes.push('no action word: pam_faillock runs it as preauth');
          if (h.type === 'account')
            notes.push('account phase: clears the records after a successful login, never refuses');
          counters.push({
            where,
            module: `pam_faillock ${h.type === 'auth' ? l.action : h.type}`,
            settings: `deny=${s2.deny} (${o.deny}), unlock_time=${s2.unlockTime || 'never'} (${o.unlock_time}), fail_interval=${s2.failInterval} (${o.fail_interval}), dir=${s2.dir} (${o.dir})${s2.evenDenyRoot ? ', even_deny_root' : ''}${s2.adminGroup ? `, admin_group=${s2.adminGroup}` : ''}`,
            notes,
          });
        }
      } else {
        const t = parseTally2Line(h);
        const s2 = t.settings;
        const notes = [...t.warnings, `onerr=${t.failOnError ? 'fail' : 'succeed'}`];
        if (t.parseError)
          notes.push(`${t.parseError}: ${t.failOnError ? 'every login is refused' : 'the module is skipped'}`);
        if (s2.magicRoot)
          notes.push('magic_root: never counts or refuses when the calling process is root (sshd, login, gdm)');
        counters.push({
          where,
          module: `pam_tally2 (${h.type})`,
          settings: `deny=${s2.deny}, unlock_time=${s2.unlockTime}, lock_time=${s2.lockTime}, file=${s2.file}${s2.evenDenyRoot ? ', even_deny_root' : ''}`,
          notes,
        });
      }
    }
    services.push({
      service: s.service,
      authFrom: s.authFrom,
      startFailure: s.startFailure,
      files: s.files,
      auth: s.auth.map((h) => ({ where: `${h.file}:${h.lineNo}`, text: h.text, problem: h.problem })),
      counters,
      problems: s.problems,
    });
  }
  const out: DoctorAccount[] = [];
  for (const account of accounts) {
    try {
      const i = await inspectLinux(account, ctx);
      const st = i.state;
      const pam = i.lockout?.pam;
      out.push({
        account,
        exists: st.exists,
        locked: st.locked,
        reasons: st.lockReasons.map((r) =>
          lockReasonToJSON(r)
            .replace(/^LOCK_REASON_/, '')
            .toLowerCase(),
        ),
        counter: failureCounterToJSON(st.counter)
          .replace(/^FAILURE_COUNTER_/, '')
          .toLowerCase(),
        failures: st.failureCount,
        deny: st.denyThreshold,
        strictest: pam?.strictest?.service,
        unknown: pam?.unknown,
        services: (pam?.services ?? []).map((v) => ({
          service: v.service,
          verdict: v.verdict,
          cause: v.cause,
          why: v.why,
          decidedBy: v.decidedBy,
          steps: v.steps,
        })),
      });
    } catch (e) {
      out.push({
        account,
        exists: false,
        services: [],
        error: { code: (e as { code?: string }).code ?? 'FP_INTERNAL', message: (e as Error).message },
      });
    }
  }
  return {
    pamDir: opts.pamDir,
    moduleDir: layout.moduleDir,
    moduleDirWhy: layout.moduleDirWhy,
    servicesWhy: layout.servicesWhy,
    counterSetting: ctx.config.counter,
    unknown: layout.unknown,
    services,
    accounts: out,
  };
}
