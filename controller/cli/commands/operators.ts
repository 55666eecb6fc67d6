/** `fleetpass operators list | add <name> --role R | disable <name>`: who may use fleetpass (admins only). */
import type { Command } from 'commander';
import { Operator, Role } from '../../../shared/gen/fleetpass/v1/admin';
import { runCommand, type GlobalOptions } from '../command-context';
import { table } from '../output';
import { enumWord, parseRole } from '../parse-enums';

const roleWord = (r: Role): string => enumWord(Role[r], 'ROLE_');

export function registerOperators(program: Command, globals: () => GlobalOptions): void {
  const operators = program.command('operators').description('manage operators (admin)');
  operators
    .command('list', { isDefault: true })
    .description('list operators and their roles')
    .action(async () => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const api = ctx.api();
        const { operators: list } = await api.call(api.client.listOperators, {});
        if (ctx.json) ctx.out.json(list.map((o) => Operator.toJSON(o)));
        else
          ctx.out.line(
            table(
              ['name', 'role', 'state', 'created'],
              list.map((o) => [
                o.name,
                roleWord(o.role),
                o.disabled ? 'disabled' : 'enabled',
                o.created?.toISOString().slice(0, 10) ?? '-',
              ]),
            ),
          );
        return 0;
      });
    });
  operators
    .command('add <name>')
    .description('add an operator; then give them a token with `fleetpass tokens create --operator NAME`')
    .requiredOption('--role <role>', 'viewer, operator, approver or admin')
    .action(async (name: string, opts: { role: string }) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const role = parseRole(opts.role);
        const api = ctx.api();
        const { operator } = await api.call(api.client.createOperator, { name, role });
        if (ctx.json) ctx.out.json(Operator.toJSON(operator!));
        else ctx.out.line(`operator ${operator!.name} added with role ${roleWord(operator!.role)}`);
        return 0;
      });
    });
  operators
    .command('disable <name>')
    .description('disable an operator and revoke their tokens, at once')
    .action(async (name: string) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const api = ctx.api();
        const { operator } = await api.call(api.client.disableOperator, { name });
        if (ctx.json) ctx.out.json(Operator.toJSON(operator!));
        else ctx.out.line(`operator ${operator!.name} disabled; their tokens no longer work`);
        return 0;
      });
    });
}
