/** `fleetpass accounts`: account states across the fleet, locked accounts first with time left on the lock. */
import type { Command } from 'commander';
import { Backend, LockReason, type AccountState } from '../../../shared/gen/fleetpass/v1/common';
import { NodeAccount } from '../../../shared/gen/fleetpass/v1/admin';
import { runCommand, type GlobalOptions } from '../command-context';
import { parseBackend } from '../parse-enums';
import { parseLabels, shortDuration, table } from '../output';

export function registerAccounts(program: Command, globals: () => GlobalOptions): void {
  program
    .command('accounts')
    .description('list accounts across the fleet, locked first')
    .option('--label <key=value...>', 'only nodes with these labels')
    .option('--node <id...>', 'only these nodes')
    .option('--account <name>', 'only this account name')
    .option('--backend <linux|ssr|lrm>', 'only this backend')
    .option('--locked', 'only locked accounts')
    .action(
      async (opts: { label?: string[]; node?: string[]; account?: string; backend?: string; locked?: boolean }) => {
        process.exitCode = await runCommand(globals(), async (ctx) => {
          const request = {
            selector: {
              nodeIds: opts.node ?? [],
              labels: parseLabels(opts.label),
              lockedOnly: false,
              all: !opts.node && !opts.label,
            },
            lockedOnly: Boolean(opts.locked),
            account: opts.account ?? '',
            backend: opts.backend ? parseBackend(opts.backend) : Backend.BACKEND_UNSPECIFIED,
          };
          const api = ctx.api();
          const { accounts } = await api.call(api.client.listAccounts, request);
          if (ctx.json) {
            ctx.out.json(accounts.map((a) => NodeAccount.toJSON(a)));
            return 0;
          }
          if (accounts.length === 0) {
            ctx.out.line(opts.locked ? 'no locked accounts' : 'no accounts reported yet');
            return 0;
          }
          const now = ctx.now().getTime();
          ctx.out.line(
            table(
              ['node', 'backend', 'account', 'state', 'failures', 'lock ends', 'password changed'],
              accounts.map((a) => accountRow(a, now)),
            ),
          );
          return 0;
        });
      },
    );
}

const REASON_WORDS: Record<number, string> = {
  [LockReason.LOCK_REASON_PASSWORD_LOCKED]: 'password locked',
  [LockReason.LOCK_REASON_TOO_MANY_FAILURES]: 'too many failures',
  [LockReason.LOCK_REASON_DISABLED]: 'disabled',
  [LockReason.LOCK_REASON_ACCOUNT_EXPIRED]: 'account expired',
  [LockReason.LOCK_REASON_PASSWORD_EXPIRED]: 'password expired',
  [LockReason.LOCK_REASON_PAM_REFUSES]: 'PAM refuses every login',
};

/** "LOCKED (too many failures)" / "ok" / "missing". */
export function describeState(s: AccountState): string {
  if (!s.exists) return 'missing';
  if (!s.locked) return 'ok';
  const why = s.lockReasons.map((r) => REASON_WORDS[r] ?? 'locked').join(', ');
  return `LOCKED${why ? ` (${why})` : ''}`;
}

/** Time left on a lock: "9m 12s", "until unlocked", or "-". */
export function lockLeft(s: AccountState, now: number): string {
  if (!s.locked) return '-';
  if (s.lockEnds) return shortDuration(s.lockEnds.getTime() - now);
  return s.lockPermanent ? 'until unlocked' : '-';
}

function accountRow(a: NodeAccount, now: number): (string | number)[] {
  const s = a.state!;
  const backend = Backend[s.backend].replace('BACKEND_', '').toLowerCase();
  const failures = s.denyThreshold ? `${s.failureCount}/${s.denyThreshold}` : String(s.failureCount);
  return [
    `${a.hostname || a.nodeId}${a.nodeOnline ? '' : ' (offline)'}`,
    backend,
    `${s.account}${a.privileged ? ' *' : ''}`,
    describeState(s),
    failures,
    lockLeft(s, now),
    s.passwordChanged?.toISOString().slice(0, 10) ?? '-',
  ];
}
