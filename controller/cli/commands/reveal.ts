/**
 * `fleetpass reveal --node N --account A [--backend B] --reason R`: show the escrowed password of an
 * account once (audited with the reason). When its class needs approval the reveal waits: an approver
 * runs `fleetpass escrow approve <id>`, then the requester runs `fleetpass reveal --collect <id>`.
 * The password goes to stdout only (never a log, never argv); everything else to stderr-free lines.
 */
import type { Command } from 'commander';
import { requireReason, REASON_HELP } from '../reason';
import { RevealState } from '../../../shared/gen/fleetpass/v1/admin';
import { Backend } from '../../../shared/gen/fleetpass/v1/common';
import { runCommand, type GlobalOptions } from '../command-context';
import { UsageError } from '../output';
import { parseBackend } from '../parse-enums';

interface RevealOptions {
  node?: string;
  account?: string;
  backend?: string;
  reason?: string;
  collect?: string;
}

export function registerReveal(program: Command, globals: () => GlobalOptions): void {
  program
    .command('reveal')
    .description('show the escrowed password of an account once (audited; may need approval; rotated after use)')
    .option('--node <id>', 'the node')
    .option('--account <name>', 'the account')
    .option('--backend <linux|ssr|lrm>', 'the account system (default linux)')
    .option('--reason <text>', REASON_HELP)
    .option('--collect <reveal-id>', 'collect a reveal an approver has approved')
    .action(async (opts: RevealOptions) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        if (opts.collect) {
          if (opts.node || opts.account || opts.reason) throw new UsageError('--collect takes only the reveal id');
        } else {
          if (!opts.node || !opts.account)
            throw new UsageError('name the account with --node and --account (or --collect <reveal-id>)');
          requireReason(opts.reason);
        }
        const api = ctx.api();
        const r = await api.call(api.client.revealPassword, {
          nodeId: opts.node ?? '',
          account: opts.account ?? '',
          backend: opts.backend ? parseBackend(opts.backend) : Backend.BACKEND_LINUX,
          reason: opts.reason ?? '',
          revealId: opts.collect ?? '',
        });
        const pending = r.state === RevealState.REVEAL_STATE_PENDING_APPROVAL;
        if (ctx.json) {
          ctx.out.json({
            state: pending ? 'pending-approval' : 'revealed',
            revealId: r.revealId,
            password: pending ? undefined : r.password,
            rotateAfter: r.rotateAfter,
          });
          return 0;
        }
        if (pending) {
          ctx.out.line(`reveal ${r.revealId} waits for approval by someone else with the approver role.`);
          ctx.out.line(
            `  approve: fleetpass escrow approve ${r.revealId}    then collect: fleetpass reveal --collect ${r.revealId}`,
          );
          return 0;
        }
        ctx.out.line(`password (shown once; reveal ${r.revealId} is audited):`);
        ctx.out.line(r.password);
        ctx.out.line(
          r.rotateAfter
            ? `it will be changed after ${r.rotateAfter.toISOString()} (post-use rotation)`
            : 'it is not rotated after use (escrow policy)',
        );
        return 0;
      });
    });
}
