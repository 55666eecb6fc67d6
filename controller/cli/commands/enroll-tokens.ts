/**
 * `fleetpass enroll-token create [--label k=v]... [--ttl 24h] [--node-id ID] | list | revoke ID` (admin):
 * one-time tokens that let a node enroll. `create` prints the token alone on stdout (so it can be piped
 * into install-agent.sh, which reads it from stdin) and everything else, including the CA fingerprint to
 * pin, on stderr; the token is shown once and stored only hashed.
 */
import type { Command } from 'commander';
import { EnrollmentToken } from '../../../shared/gen/fleetpass/v1/admin';
import { runCommand, type GlobalOptions } from '../command-context';
import { formatLabels, parseLabels, table } from '../output';
import { parseDuration } from '../../../shared/parse-duration';

function state(t: EnrollmentToken, now: Date): string {
  if (t.used) return `used by ${t.usedByNode}`;
  if (t.revoked) return 'revoked';
  if (t.expires && t.expires.getTime() <= now.getTime()) return 'expired';
  return 'active';
}

export function registerEnrollTokens(program: Command, globals: () => GlobalOptions): void {
  const tokens = program.command('enroll-token').description('one-time tokens that let a node enroll (admin)');
  tokens
    .command('create')
    .description(
      'create a one-time enrollment token; it is printed once, alone on stdout (pipe it into install-agent.sh)',
    )
    .option('--label <key=value...>', 'labels the node gets (they win over the labels in its own config)')
    .option('--ttl <duration>', 'how long the token may be used, e.g. 2h or 7d (default 24h, at most 30d)')
    .option(
      '--node-id <id>',
      'the node id its certificate carries (default: from its hostname); needed to enroll an existing node again',
    )
    .action(async (opts: { label?: string[]; ttl?: string; nodeId?: string }) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const labels = parseLabels(opts.label);
        const ttlSeconds = opts.ttl ? parseDuration(opts.ttl, '--ttl') : 0;
        const api = ctx.api();
        const res = await api.call(api.client.createEnrollmentToken, { labels, ttlSeconds, nodeId: opts.nodeId ?? '' });
        const t = res.token!;
        if (ctx.json) {
          ctx.out.json({
            ...(EnrollmentToken.toJSON(t) as Record<string, unknown>),
            secret: res.secret,
            caFingerprint: res.caFingerprint,
          });
          return 0;
        }
        ctx.out.line(res.secret);
        ctx.out.error(
          `enrollment token ${t.id}: one use, until ${t.expires?.toISOString() ?? '?'}, node id ${t.nodeId || 'from the hostname'}${Object.keys(t.labels).length ? `, labels ${formatLabels(t.labels)}` : ''}`,
        );
        ctx.out.error('it is shown once (above, on stdout); on the node, with the token on stdin or in a file:');
        ctx.out.error(
          `  sudo deploy/install-agent.sh --controller <controller>:7443 --ca-fingerprint ${res.caFingerprint} --token-file FILE`,
        );
        return 0;
      });
    });
  tokens
    .command('list', { isDefault: true })
    .description('list enrollment tokens, newest first (never their secrets)')
    .action(async () => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const api = ctx.api();
        const { tokens: list } = await api.call(api.client.listEnrollmentTokens, {});
        if (ctx.json) {
          ctx.out.json(list.map((t) => EnrollmentToken.toJSON(t)));
          return 0;
        }
        if (list.length === 0) {
          ctx.out.line('no enrollment tokens');
          return 0;
        }
        const now = ctx.now();
        ctx.out.line(
          table(
            ['id', 'state', 'node id', 'labels', 'expires', 'created by'],
            list.map((t) => [
              t.id,
              state(t, now),
              t.nodeId || '(hostname)',
              formatLabels(t.labels),
              t.expires?.toISOString() ?? '-',
              t.createdBy,
            ]),
          ),
        );
        return 0;
      });
    });
  tokens
    .command('revoke <id>')
    .description('revoke an unused enrollment token at once')
    .action(async (id: string) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const api = ctx.api();
        const { token } = await api.call(api.client.revokeEnrollmentToken, { id });
        if (ctx.json) ctx.out.json(EnrollmentToken.toJSON(token!));
        else ctx.out.line(`enrollment token ${token!.id} revoked`);
        return 0;
      });
    });
}
