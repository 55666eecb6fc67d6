/** `fleetpass cancel <id>`: cancel the operations of a request that were not sent yet (one's own; admins any). */
import type { Command } from 'commander';
import { runCommand, type GlobalOptions } from '../command-context';
import { requestJson, requestLine } from '../operation-view';

export function registerCancel(program: Command, globals: () => GlobalOptions): void {
  program
    .command('cancel <id>')
    .description('cancel a change request; operations already sent finish or expire on their own')
    .option('--note <text>', 'why (stored and audited)')
    .action(async (id: string, opts: { note?: string }) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const api = ctx.api();
        const { request } = await api.call(api.client.cancelChangeRequest, { id, note: opts.note ?? '' });
        if (ctx.json) ctx.out.json(requestJson(request, []));
        else ctx.out.line(`cancelled: ${requestLine(request!)}`);
        return 0;
      });
    });
}
