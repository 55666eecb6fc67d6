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
        const r = await api.call(api.client.whoAmI, {});
        const operator = r.operator!;
        const role = enumWord(Role[operator.role], 'ROLE_');
        if (ctx.json)
          ctx.out.json({
            ...(Operator.toJSON(operator) as Record<string, unknown>),
            via: r.via,
            tokenKind: r.tokenKind,
            provider: r.provider,
          });
        else {
          ctx.out.line(`${operator.name} (${role}) at ${ctx.config.controller}`);
          // Operators made by hand keep the one line; provider users also see who they are there.
          if (operator.idpSubject) {
            ctx.out.line(
              `identity: ${operator.displayName || operator.name}, subject ${operator.idpSubject} at ${r.provider || 'the identity provider'} (${operator.idpIssuer})`,
            );
            ctx.out.line(
              `role: ${role} from ${operator.roleSource.startsWith('group:') ? `the provider group ${operator.roleSource.slice(6)} (auth.oidc.groupRoles), as of the last sign-in` : 'an admin (assigned)'}`,
            );
            ctx.out.line(
              `signed in with: ${r.tokenKind === 'session' ? 'a session token from fleetpass login' : r.via}`,
            );
          }
        }
        return 0;
      });
    });
}
