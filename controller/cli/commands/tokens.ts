/** `fleetpass tokens create --operator NAME [--ttl 90d] [--output FILE]`: a new API token, shown once (admin). */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FleetpassError } from '../../../shared/errors';
import { runCommand, type GlobalOptions } from '../command-context';
import { parseDuration } from '../../../shared/parse-duration';

export function registerTokens(program: Command, globals: () => GlobalOptions): void {
  const tokens = program.command('tokens').description('API tokens for operators (admin)');
  tokens
    .command('create')
    .description('create an API token for an operator; it is shown (or written) once and stored only as a salted hash')
    .requiredOption('--operator <name>', 'whose token')
    .option('--ttl <duration>', 'lifetime, e.g. 30d (default 90d)')
    .option('--output <file>', 'write the token to this new file (mode 0600) instead of printing it')
    .action(async (opts: { operator: string; ttl?: string; output?: string }) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const ttlSeconds = opts.ttl ? parseDuration(opts.ttl, '--ttl') : 0;
        const api = ctx.api();
        const res = await api.call(api.client.createApiToken, { operator: opts.operator, ttlSeconds });
        const expires = res.expires?.toISOString() ?? 'never';
        if (opts.output) {
          try {
            writeFileSync(opts.output, `${res.token}\n`, { mode: 0o600, flag: 'wx' });
          } catch (e) {
            throw new FleetpassError(
              'FP_INVALID_ARGUMENT',
              `cannot write ${opts.output} (${(e as NodeJS.ErrnoException).code ?? 'error'}); the token was created but not saved, create another`,
              { cause: e },
            );
          }
          if (ctx.json) ctx.out.json({ operator: opts.operator, expires, output: opts.output });
          else ctx.out.line(`token for ${opts.operator} (expires ${expires}) written to ${opts.output}`);
        } else if (ctx.json) {
          ctx.out.json({ operator: opts.operator, expires, token: res.token });
        } else {
          ctx.out.line(`token for ${opts.operator} (expires ${expires}), shown once:`);
          ctx.out.line(res.token);
        }
        return 0;
      });
    });
}
