/** `fleetpass whoami`: the operator and role behind the configured credential. */
import type { Command } from 'commander';
import { Operator, Role } from '../../../shared/gen/fleetpass/v1/admin';
import { runCommand, type GlobalOptions } from '../command-context';
import { enumWord } from '../parse-enums';

export function registerWhoami(program: Command, globals: () => GlobalOptions): void {
  program
    .command('whoami')
    .description('show who the controller takes you for')
    .action(async () => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const api = ctx.api();
        const { operator } = await api.call(api.client.whoAmI, {});
        if (ctx.json) ctx.out.json(Operator.toJSON(operator!));
        else ctx.out.line(`${operator!.name} (${enumWord(Role[operator!.role], 'ROLE_')}) at ${ctx.config.controller}`);
        return 0;
      });
    });
}
