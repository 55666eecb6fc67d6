/**
 * `fleetpass rotate --node/--label/--all --account A [--backend B] --reason R`: give the account a new
 * random escrowed password now, as an ordinary audited reset by escrow:rotation that waits while an
 * instrument is busy. Online, idle nodes are rotated at once (followed until done); offline or busy ones
 * when they are back and idle (`fleetpass escrow status` shows them). Exit 1 when a node failed.
 */
import type { Command } from 'commander';
import { requireReason, REASON_HELP } from '../reason';
import { Backend } from '../../../shared/gen/fleetpass/v1/common';
import { FleetpassError } from '../../../shared/errors';
import { runCommand, type GlobalOptions } from '../command-context';
import { followRequest } from '../follow-request';
import { operationsTable, outcomeSummary, requestJson, requestLine } from '../operation-view';
import { parseBackend } from '../parse-enums';
import { changeSelector, type SelectionOptions } from '../selection';

interface RotateOptions extends SelectionOptions {
  account: string;
  backend?: string;
  reason?: string;
}

export function registerRotate(program: Command, globals: () => GlobalOptions): void {
  program
    .command('rotate')
    .description('give an account a new random escrowed password now (busy and offline nodes: when idle and back)')
    .option('--node <id...>', 'these nodes (repeat or list)')
    .option('--label <key=value...>', 'every node with all these labels')
    .option('--all', 'every enrolled node')
    .requiredOption('--account <name>', 'the account')
    .option('--backend <linux|ssr|lrm>', 'the account system (default linux)')
    .option('--reason <text>', REASON_HELP)
    .action(async (opts: RotateOptions) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const selector = changeSelector(opts);
        const reason = requireReason(opts.reason);
        const api = ctx.api();
        const res = await api.call(api.client.rotatePasswords, {
          selector,
          backend: opts.backend ? parseBackend(opts.backend) : Backend.BACKEND_LINUX,
          account: opts.account,
          reason,
        });
        if (!res.request) {
          if (ctx.json) ctx.out.json({ request: null, operations: [], waiting: true });
          else
            ctx.out.line(
              'no chosen node can be rotated right now (offline or busy); each is rotated when it is back and idle: see fleetpass escrow status',
            );
          return 0;
        }
        const followed = await followRequest(api, res.request.id, { progress: !ctx.json && ctx.stderrIsTty() });
        const summary = outcomeSummary(followed.operations);
        if (ctx.json) ctx.out.json(requestJson(followed.request, followed.operations, { complete: followed.complete }));
        else {
          ctx.out.line(requestLine(followed.request));
          ctx.out.line(operationsTable(followed.operations, [], ctx.now().getTime()));
          ctx.out.line(summary.text);
          ctx.out.line('the new passwords are escrowed; see them with fleetpass reveal (audited)');
        }
        if (summary.notSucceeded > 0) {
          const e = new FleetpassError(
            'FP_OPERATIONS_FAILED',
            `${summary.notSucceeded} of ${followed.operations.length} node(s) were not rotated (${summary.text}); their old passwords stay valid and escrowed, and they are retried`,
          );
          ctx.out.error(`error ${e.code}: ${e.message}`);
          return 1;
        }
        return 0;
      });
    });
}
