/**
 * `fleetpass escrow status [--node/--label] [--json]`: per account, when and by whom the escrowed password
 * was set, versions kept, last reveal, next rotation (and why) and the last rotation's outcome; never a
 * password. `escrow reveals [--open]` lists reveals; `escrow approve|reject <reveal-id> [--note]` is the
 * second person's decision on a reveal that needs approval (never the requester's own).
 */
import type { Command } from 'commander';
import { EscrowEntry, Reveal, RevealState } from '../../../shared/gen/fleetpass/v1/admin';
import { runCommand, type GlobalOptions } from '../command-context';
import { backendWord } from '../operation-view';
import { parseLabels, table } from '../output';
import { enumWord } from '../parse-enums';

const when = (d: Date | undefined): string => (d ? d.toISOString().replace('T', ' ').slice(0, 16) : '-');

function revealState(s: RevealState): string {
  return enumWord(RevealState[s], 'REVEAL_STATE_');
}

function revealsTable(list: readonly Reveal[]): string {
  return table(
    ['id', 'asked', 'by', 'node', 'account', 'state', 'decided by', 'reason'],
    list.map((r) => [
      r.id,
      when(r.created),
      r.requestedBy,
      r.nodeId,
      `${r.account} (${backendWord(r.backend)})`,
      revealState(r.state),
      r.decidedBy || '-',
      r.reason,
    ]),
  );
}

export function registerEscrow(program: Command, globals: () => GlobalOptions): void {
  const escrow = program.command('escrow').description('password escrow: status, reveals and their approval');
  escrow
    .command('status')
    .description('escrowed accounts: set at/by, versions, last reveal, next and last rotation')
    .option('--node <id...>', 'only these nodes')
    .option('--label <key=value...>', 'only nodes with all these labels')
    .action(async (opts: { node?: string[]; label?: string[] }) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const labels = parseLabels(opts.label);
        const selector =
          opts.node?.length || Object.keys(labels).length
            ? { nodeIds: opts.node ?? [], labels, all: false, lockedOnly: false }
            : undefined;
        const api = ctx.api();
        const { entries } = await api.call(api.client.escrowStatus, { selector });
        if (ctx.json) {
          ctx.out.json(entries.map((e) => EscrowEntry.toJSON(e)));
          return 0;
        }
        if (entries.length === 0) {
          ctx.out.line('no escrowed accounts yet: passwords are escrowed when fleetpass sets them (reset, rotate)');
          return 0;
        }
        ctx.out.line(
          table(
            [
              'node',
              'account',
              'class',
              'set at',
              'set by',
              'versions',
              'last revealed',
              'next rotation',
              'last rotation',
            ],
            entries.map((e) => [
              e.nodeId,
              `${e.account} (${backendWord(e.backend)})`,
              e.rotationClass || '-',
              when(e.setAt),
              e.setBy || '-',
              e.versions,
              when(e.lastRevealed),
              e.nextRotation ? `${when(e.nextRotation)}${e.rotationReason ? ` (${e.rotationReason})` : ''}` : '-',
              e.inFlight
                ? 'in progress'
                : e.lastRotationOutcome
                  ? `${e.lastRotationOutcome}${e.lastRotationAt ? ` ${when(e.lastRotationAt)}` : ''}`
                  : '-',
            ]),
          ),
        );
        return 0;
      });
    });
  escrow
    .command('reveals')
    .description('password reveals, newest first')
    .option('--open', 'only those waiting for approval or collection')
    .action(async (opts: { open?: boolean }) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const api = ctx.api();
        const { reveals } = await api.call(api.client.listReveals, { openOnly: Boolean(opts.open) });
        if (ctx.json) ctx.out.json(reveals.map((r) => Reveal.toJSON(r)));
        else ctx.out.line(reveals.length ? revealsTable(reveals) : 'no reveals');
        return 0;
      });
    });
  for (const decision of ['approve', 'reject'] as const) {
    escrow
      .command(`${decision} <reveal-id>`)
      .description(`${decision} someone else's reveal that needs approval`)
      .option('--note <text>', 'why (stored and audited)')
      .action(async (id: string, opts: { note?: string }) => {
        process.exitCode = await runCommand(globals(), async (ctx) => {
          const api = ctx.api();
          const { reveal } = await api.call(api.client.decideReveal, {
            revealId: id,
            approve: decision === 'approve',
            note: opts.note ?? '',
          });
          if (ctx.json) ctx.out.json(Reveal.toJSON(reveal!));
          else {
            ctx.out.line(
              `${decision === 'approve' ? 'approved' : 'rejected'}: reveal ${reveal!.id} of ${reveal!.account} on ${reveal!.nodeId} for ${reveal!.requestedBy}`,
            );
            if (decision === 'approve')
              ctx.out.line(
                `${reveal!.requestedBy} collects it once with: fleetpass reveal --collect ${reveal!.id} (until ${when(reveal!.expires)})`,
              );
          }
          return 0;
        });
      });
  }
}
