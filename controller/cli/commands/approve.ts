/** `fleetpass approve <id> [--note]`: a second person approves a waiting request; it is sent to its nodes at once. */
import type { Command } from 'commander';
import { runCommand, type GlobalOptions } from '../command-context';
import { requestJson, requestLine } from '../operation-view';

export function registerApprove(program: Command, globals: () => GlobalOptions): void {
  program
    .command('approve <id>')
    .description("approve someone else's change request")
    .option('--note <text>', 'why (stored and audited)')
    .action(async (id: string, opts: { note?: string }) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const api = ctx.api();
        const { request } = await api.call(api.client.approveChangeRequest, { id, note: opts.note ?? '' });
        if (ctx.json) ctx.out.json(requestJson(request, []));
        else {
          ctx.out.line(`approved: ${requestLine(request!)}`);
          ctx.out.line(`follow it with: fleetpass watch ${id}`);
        }
        return 0;
      });
    });
}
