/** `fleetpass requests`: recent change requests (filter by state); `requests show <id>`: one with its per-node operations. */
import type { Command } from 'commander';
import { ChangeRequest, ChangeRequestState } from '../../../shared/gen/fleetpass/v1/admin';
import { runCommand, type GlobalOptions } from '../command-context';
import {
  actionWord,
  backendWord,
  operationsTable,
  outcomeSummary,
  requestJson,
  requestLine,
  requestStateWord,
} from '../operation-view';
import { table, UsageError } from '../output';

function parseState(word: string): ChangeRequestState {
  const key = `CHANGE_REQUEST_STATE_${word.toUpperCase().replace(/-/g, '_')}`;
  const v = ChangeRequestState[key as keyof typeof ChangeRequestState];
  if (typeof v !== 'number' || v === ChangeRequestState.CHANGE_REQUEST_STATE_UNSPECIFIED) {
    throw new UsageError(
      `unknown state ${JSON.stringify(word)}; use pending-approval, approved, rejected, cancelled or done`,
    );
  }
  return v;
}

function counts(c: Record<string, number>): string {
  return (
    Object.entries(c)
      .map(([k, n]) => `${n} ${k.toLowerCase()}`)
      .join(', ') || '-'
  );
}

export function registerRequests(program: Command, globals: () => GlobalOptions): void {
  const requests = program
    .command('requests')
    .description('list change requests, newest first')
    .option('--state <state...>', 'only these states: pending-approval, approved, rejected, cancelled, done')
    .option('--limit <n>', 'at most this many (default 50)', '50')
    .action(async (opts: { state?: string[]; limit: string }) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be 1 to 1000');
        const api = ctx.api();
        const { requests: list } = await api.call(api.client.listChangeRequests, {
          states: (opts.state ?? []).map(parseState),
          limit,
        });
        if (ctx.json) {
          ctx.out.json(list.map((r) => ChangeRequest.toJSON(r)));
          return 0;
        }
        if (list.length === 0) {
          ctx.out.line('no change requests');
          return 0;
        }
        ctx.out.line(
          table(
            ['id', 'created', 'by', 'action', 'account', 'state', 'nodes', 'reason'],
            list.map((r) => [
              r.id,
              r.created?.toISOString().replace('T', ' ').slice(0, 19) ?? '-',
              r.requestedBy,
              actionWord(r.action),
              `${r.account} (${backendWord(r.backend)})${r.privileged ? ' *' : ''}`,
              requestStateWord(r.state),
              counts(r.counts),
              r.reason,
            ]),
          ),
        );
        return 0;
      });
    });
  requests
    .command('show <id>')
    .description('one change request with the state of every node')
    .action(async (id: string) => {
      process.exitCode = await runCommand(globals(), async (ctx) => {
        const api = ctx.api();
        const { request, operations } = await api.call(api.client.getChangeRequest, { id });
        if (ctx.json) {
          ctx.out.json(requestJson(request, operations));
          return 0;
        }
        const r = request!;
        ctx.out.line(requestLine(r));
        if (r.approvedBy) ctx.out.line(`approved by ${r.approvedBy}${r.decisionNote ? `: ${r.decisionNote}` : ''}`);
        if (r.rejectedBy) ctx.out.line(`rejected by ${r.rejectedBy}${r.decisionNote ? `: ${r.decisionNote}` : ''}`);
        ctx.out.line(operationsTable(operations, [], ctx.now().getTime()));
        ctx.out.line(outcomeSummary(operations).text);
        return 0;
      });
    });
}
