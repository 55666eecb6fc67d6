/**
 * `fleetpass-agent doctor [NAME...]`: explains the Linux lock verdicts for the on-site technician and
 * for support: which PAM files and lines each login service reads, which failure counter and
 * thresholds apply and why, and each account's verdict per service. Read-only; `--json` for support.
 * Without names it explains the Linux accounts of the local policy.
 */
import { createLogger } from '../../shared/logger';
import { asFleetpassError } from '../../shared/errors';
import { assertAccountName } from '../../shared/validation/account-name';
import { createLinuxContext } from '../backends/linux';
import { buildDoctorReport, type DoctorReport } from '../backends/linux/pam/doctor-report';
import { loadAgentConfig } from '../config';
import { configFile, errorLine, type CommandIo } from './command-io';

export interface DoctorOptions {
  config?: string;
  json?: boolean;
}

/** Prints the report; 0 when every account could be judged with confidence, 1 otherwise, 2 on bad usage. */
export async function doctorCommand(names: string[], opts: DoctorOptions, io: CommandIo): Promise<number> {
  let report: DoctorReport;
  try {
    const { config } = loadAgentConfig({ file: configFile(opts.config, io.env), env: io.env });
    const accounts =
      names.length > 0
        ? names.map((n) => assertAccountName(n))
        : config.policy.accounts.filter((a) => a.backend === 'linux').map((a) => a.account);
    const { enabled: _enabled, ...linux } = config.backends.linux;
    const log = createLogger({
      level: io.env.FLEETPASS_LOG_LEVEL ?? 'warn',
      name: 'fleetpass-agent',
      destination: process.stderr,
    });
    report = await buildDoctorReport(createLinuxContext({ config: linux, log }), [...new Set(accounts)]);
  } catch (e) {
    io.err(errorLine(e));
    return asFleetpassError(e).code === 'FP_ACCOUNT_NAME_INVALID' ? 2 : 1;
  }
  if (opts.json) io.out(JSON.stringify(report, null, 2));
  else io.out(renderDoctor(report));
  const doubtful = report.unknown !== undefined || report.accounts.some((a) => a.error || a.unknown);
  return doubtful ? 1 : 0;
}

/** The human report. */
export function renderDoctor(r: DoctorReport): string {
  const lines: string[] = [];
  lines.push(
    `PAM directory ${r.pamDir}; modules in ${r.moduleDir} (${r.moduleDirWhy}); failure counter setting: ${r.counterSetting}`,
  );
  lines.push(`Login services judged: ${r.services.map((s) => s.service).join(', ')} (${r.servicesWhy})`);
  if (r.unknown) lines.push(`WARNING: the layout cannot be read with confidence: ${r.unknown}`);
  for (const s of r.services) {
    lines.push('', `== ${s.service}${s.authFrom === 'other' ? ' (no auth lines of its own: libpam uses other)' : ''}`);
    if (s.startFailure) lines.push(`  pam_start fails: ${s.startFailure}`);
    lines.push('  files read:');
    for (const f of s.files) {
      const real = f.realPath && f.realPath !== f.path ? ` -> ${f.realPath}` : '';
      lines.push(`    ${f.path}${real}${f.error ? ` (${f.error})` : ''}${f.from ? `  [from ${f.from}]` : ''}`);
    }
    lines.push('  auth lines, in the order libpam runs them:');
    for (const a of s.auth) lines.push(`    ${a.where}: ${a.text}${a.problem ? `   <- ${a.problem}` : ''}`);
    if (s.counters.length > 0) {
      lines.push('  failure counters:');
      for (const c of s.counters) {
        lines.push(`    ${c.where}: ${c.module}: ${c.settings}`);
        for (const n of c.notes) lines.push(`      - ${n}`);
      }
    }
    for (const p of s.problems) lines.push(`  problem: ${p}`);
  }
  lines.push('', '== accounts');
  for (const a of r.accounts) {
    if (a.error) {
      lines.push(`  ${a.account}: error ${a.error.code}: ${a.error.message}`);
      continue;
    }
    if (!a.exists) {
      lines.push(`  ${a.account}: no such account`);
      continue;
    }
    const state = a.locked ? `LOCKED (${(a.reasons ?? []).join(', ')})` : 'not locked';
    lines.push(
      `  ${a.account}: ${state}; counter ${a.counter} ${a.failures}/${a.deny}${a.strictest ? `; strictest service: ${a.strictest}` : ''}`,
    );
    if (a.unknown) lines.push(`    cannot be sure: ${a.unknown}`);
    for (const v of a.services) {
      lines.push(
        `    ${v.service}: ${v.verdict}${v.cause ? ` (${v.cause === 'pam' ? 'PAM refuses every login' : 'too many failures'})` : ''}: ${v.why}`,
      );
      if (v.decidedBy) lines.push(`      decided by ${v.decidedBy}`);
    }
  }
  return lines.join('\n');
}
