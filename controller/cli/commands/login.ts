/**
 * `fleetpass login`: signs in through the organisation's identity provider with the device authorization
 * grant (RFC 8628), as `tsh login` does. The controller starts it at the provider (it holds the client
 * secret), the CLI shows where to go and which code to confirm, and once the user approved there the
 * controller hands back a short-lived session token, stored 0600 in the user's config folder and used by
 * every later command. `fleetpass logout` revokes it at the controller and removes the file.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { FleetpassError } from '../../../shared/errors';
import { Role } from '../../../shared/gen/fleetpass/v1/admin';
import { writeSecureFile } from '../../../shared/pki';
import { sessionTokenPath } from '../cli-config';
import { runCommand, type GlobalOptions } from '../command-context';
import { enumWord } from '../parse-enums';

export function registerLogin(program: Command, globals: () => GlobalOptions): void {
  program
    .command('login')
    .description('sign in through the identity provider (device code) and keep a short-lived session token')
    .action(async () => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const api = ctx.anonymousApi();
        const start = await api.call(api.client.startLogin, {});
        process.stderr.write(
          `To sign in with ${start.provider || 'your identity provider'}, open ${start.verificationUriComplete || start.verificationUri}\n` +
            `and confirm the code ${start.userCode} (valid ${Math.round(start.expiresInSeconds / 60)} minutes).\n`,
        );
        const end = Date.now() + start.expiresInSeconds * 1000 + 30_000;
        for (;;) {
          const r = await api.call(api.client.finishLogin, { loginId: start.loginId });
          if (!r.pending) {
            const file = sessionTokenPath();
            mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
            writeSecureFile(file, `${r.token}\n`);
            const op = r.operator!;
            if (ctx.json)
              ctx.out.json({ operator: op.name, role: enumWord(Role[op.role], 'ROLE_'), expires: r.expires, file });
            else
              ctx.out.line(
                `signed in as ${op.name} (${enumWord(Role[op.role], 'ROLE_')} from ${op.roleSource}); session token in ${file} until ${r.expires!.toISOString()}`,
              );
            return 0;
          }
          if (Date.now() > end)
            throw new FleetpassError('FP_OIDC_STATE_INVALID', 'the sign-in was not approved in time');
        }
      });
    });

  program
    .command('logout')
    .description('revoke the session token of fleetpass login and remove it')
    .action(async () => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const api = ctx.api();
        const r = await api.call(api.client.logout, {});
        rmSync(sessionTokenPath(), { force: true });
        ctx.out.line(r.revoked ? 'signed out: the session token is revoked' : 'signed out (the API token stays valid)');
        return 0;
      });
    });
}
