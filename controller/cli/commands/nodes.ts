/**
 * `fleetpass nodes`: the fleet at a glance: online state, labels (an admin's: what --label selects),
 * reported labels (the node's own: shown only), last seen, locked accounts; `nodes label <id> k=v...` and
 * `nodes revoke <id>` (admin).
 */
import type { Command } from 'commander';
import { requireReason, REASON_HELP } from '../reason';
import { Node } from '../../../shared/gen/fleetpass/v1/admin';
import { runCommand, type GlobalOptions } from '../command-context';
import { formatLabels, parseLabels, shortDuration, table } from '../output';

export function registerNodes(program: Command, globals: () => GlobalOptions): void {
  const nodes = program
    .command('nodes')
    .description('list nodes: online, labels, last seen, locked accounts')
    .option('--label <key=value...>', 'only nodes with these labels (given by an admin; never the ones a node reports)')
    .action(async (opts: { label?: string[] }) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const api = ctx.api();
        const { nodes } = await api.call(api.client.listNodes, {
          selector: { nodeIds: [], labels: parseLabels(opts.label), lockedOnly: false, all: false },
        });
        if (ctx.json) {
          ctx.out.json(nodes.map((n) => Node.toJSON(n)));
          return 0;
        }
        if (nodes.length === 0) {
          ctx.out.line('no nodes enrolled yet');
          return 0;
        }
        const now = ctx.now().getTime();
        ctx.out.line(
          table(
            ['node', 'hostname', 'state', 'labels', 'reported', 'last seen', 'locked'],
            nodes.map((n) => nodeRow(n, now)),
          ),
        );
        return 0;
      });
    });
  nodes
    .command('label <id> [labels...]')
    .description('set the labels selectors match (admin): the complete new set as key=value; none removes them all')
    .option('--reason <text>', REASON_HELP)
    .action(async (id: string, labels: string[], opts: { reason?: string }) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const reason = requireReason(opts.reason);
        const api = ctx.api();
        const { node } = await api.call(api.client.setNodeLabels, {
          nodeId: id,
          labels: parseLabels(labels),
          reason,
        });
        if (ctx.json) ctx.out.json(Node.toJSON(node!));
        else ctx.out.line(`node ${node!.id} labels: ${formatLabels(node!.labels) || '(none)'}`);
        return 0;
      });
    });
  nodes
    .command('revoke <id>')
    .description('revoke a node (admin): its stream is cut at once and it can never connect again')
    .option('--reason <text>', REASON_HELP)
    .action(async (id: string, opts: { reason?: string }) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const reason = requireReason(opts.reason);
        const api = ctx.api();
        const { node } = await api.call(api.client.revokeNode, { nodeId: id, reason });
        if (ctx.json) ctx.out.json(Node.toJSON(node!));
        else ctx.out.line(`node ${node!.id} revoked`);
        return 0;
      });
    });
}

function nodeRow(n: Node, now: number): (string | number)[] {
  const state = n.revoked
    ? 'revoked'
    : n.online
      ? n.busy
        ? 'online (busy)'
        : 'online'
      : n.stale
        ? 'stale'
        : 'offline';
  const seen = n.lastSeen ? `${shortDuration(now - n.lastSeen.getTime())} ago` : 'never';
  return [n.id, n.hostname, state, formatLabels(n.labels), formatLabels(n.reportedLabels), seen, n.lockedAccounts];
}
