/**
 * How much one state report may carry. A node's report is stored as it came (the latest state per
 * account and a history row per change), so without bounds one node could fill the data file (one
 * 300 KB account row, reports of megabytes). A report over any bound is refused whole (nothing of it is
 * stored) with FP_REPORT_TOO_LARGE; the connect handler audits that once per window.
 */
import { FleetpassError } from '../../shared/errors';
import type { StateReport } from '../../shared/gen/fleetpass/v1/agent';

export const REPORT_BOUNDS = {
  /** Accounts in one report (a node manages a handful; SSR and LRM a few dozen). */
  accounts: 1000,
  /** Backend details per account (linux.pam.<service> per login service, ssr.role, lrm.version...). */
  details: 64,
  /** Characters in a detail's name... */
  detailKey: 100,
  /** ...and in its value (a PAM verdict with its reason). */
  detailValue: 1000,
  /** Characters in the last failure's source (rhost, tty or service). */
  failureSource: 256,
  /** Lock reasons per account. */
  lockReasons: 16,
  /** Characters of detail names and values in the whole report. */
  reportDetailChars: 256 * 1024,
} as const;

/** Throws FP_REPORT_TOO_LARGE naming the first bound the report breaks. */
export function assertReportWithinBounds(report: StateReport): void {
  const b = REPORT_BOUNDS;
  const over = (what: string) =>
    new FleetpassError('FP_REPORT_TOO_LARGE', `the state report is refused: ${what}; nothing of it was stored`);
  if (report.accounts.length > b.accounts) throw over(`${report.accounts.length} accounts (at most ${b.accounts})`);
  let detailChars = 0;
  for (const a of report.accounts) {
    const name = JSON.stringify(a.account.slice(0, 40));
    if (a.lockReasons.length > b.lockReasons)
      throw over(`account ${name} has ${a.lockReasons.length} lock reasons (at most ${b.lockReasons})`);
    if (a.lastFailureSource.length > b.failureSource)
      throw over(
        `account ${name} has a last failure source of ${a.lastFailureSource.length} characters (at most ${b.failureSource})`,
      );
    const details = Object.entries(a.details);
    if (details.length > b.details) throw over(`account ${name} has ${details.length} details (at most ${b.details})`);
    for (const [k, v] of details) {
      detailChars += k.length + v.length;
      if (k.length > b.detailKey)
        throw over(`account ${name} has a detail name of ${k.length} characters (at most ${b.detailKey})`);
      if (v.length > b.detailValue)
        throw over(
          `account ${name} has a detail ${JSON.stringify(k.slice(0, 40))} of ${v.length} characters (at most ${b.detailValue})`,
        );
    }
  }
  if (detailChars > b.reportDetailChars)
    throw over(`its details hold ${detailChars} characters (at most ${b.reportDetailChars} in one report)`);
}
