/** `fleetpass reject <id> [--note]`: an approver refuses a waiting request; nothing reaches its nodes. */
import type { Command } from 'commander';
import { runCommand, type GlobalOptions } from '../command-context';
import { requestJson, requestLine } from '../operation-view';

export function registerReject(program: Command, globals: () => GlobalOptions): void {
  program
    .command('reject <id>')
    .description("reject someone else's change request")
    .option('--note <text>', 'why (stored and audited)')
    .action(async (id: string, opts: { note?: string }) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const api = ctx.api();
        const { request } = await api.call(api.client.rejectChangeRequest, { id, note: opts.note ?? '' });
        if (ctx.json) ctx.out.json(requestJson(request, []));
        else ctx.out.line(`rejected: ${requestLine(request!)}`);
        return 0;
      });
    });
}
