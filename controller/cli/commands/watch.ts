/** `fleetpass watch <id>`: follow a request live (server stream) until every node is done; exit 1 if any failed. */
import type { Command } from 'commander';
import { FleetpassError } from '../../../shared/errors';
import { runCommand, type GlobalOptions } from '../command-context';
import { followRequest } from '../follow-request';
import { operationsTable, outcomeSummary, requestJson, requestLine } from '../operation-view';

export function registerWatch(program: Command, globals: () => GlobalOptions): void {
  program
    .command('watch <id>')
    .description('follow a change request until every operation is final')
    .option('--no-wait', 'stop when only operations waiting for offline nodes are left')
    .action(async (id: string, opts: { wait: boolean }) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const followed = await followRequest(ctx.api(), id, {
          waitForOffline: opts.wait,
          progress: !ctx.json && ctx.stderrIsTty(),
        });
        const summary = outcomeSummary(followed.operations);
        if (ctx.json) ctx.out.json(requestJson(followed.request, followed.operations, { complete: followed.complete }));
        else {
          ctx.out.line(requestLine(followed.request));
          ctx.out.line(operationsTable(followed.operations, [], ctx.now().getTime()));
          ctx.out.line(summary.text);
        }
        if (summary.notSucceeded === 0) return 0;
        const e = new FleetpassError(
          'FP_OPERATIONS_FAILED',
          `${summary.notSucceeded} of ${followed.operations.length} node(s) did not succeed (${summary.text})`,
        );
        ctx.out.error(`error ${e.code}: ${e.message}`);
        return 1;
      });
    });
}
