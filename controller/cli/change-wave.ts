/**
 * What `fleetpass unlock` and `fleetpass reset` share: build the request, ask the controller for a dry
 * run (which nodes, approval or not), show it and stop for --dry-run, confirm more than one node (--yes;
 * without a terminal, refuse), send it, then follow the wave over the server stream and print the
 * per-node result table. Exit code 0 when every node succeeded (or the request waits for approval), 1
 * otherwise. Passwords come from --generate or stdin, never argv.
 */
import type { Command } from 'commander';
import { requireReason, REASON_HELP } from './reason';
import { PasswordSource, type RequestOperationsRequest } from '../../shared/gen/fleetpass/v1/admin';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { FleetpassError } from '../../shared/errors';
import type { CommandContext } from './command-context';
import { followRequest } from './follow-request';
import { backendWord, operationsTable, outcomeSummary, requestJson, requestLine } from './operation-view';
import { UsageError } from './output';
import { parseBackend } from './parse-enums';
import { parseDuration } from '../../shared/parse-duration';
import { changeSelector, selectionOptions, type SelectionOptions } from './selection';

export interface WaveOptions extends SelectionOptions {
  account: string;
  backend?: string;
  reason?: string;
  dryRun?: boolean;
  yes?: boolean;
  wait?: boolean;
  ttl?: string;
  generate?: boolean;
  passwordStdin?: boolean;
  samePassword?: boolean;
  temporary?: boolean;
}

/** The flags every change command takes. */
export function waveOptions(cmd: Command): Command {
  return selectionOptions(cmd)
    .requiredOption('--account <name>', 'the account to change on every chosen node')
    .option('--backend <linux|ssr|lrm>', 'the account system (default linux)')
    .option('--reason <text>', REASON_HELP)
    .option('--dry-run', 'show which nodes, whether approval is needed and what would happen; change nothing')
    .option('-y, --yes', 'do not ask for confirmation when more than one node is chosen')
    .option('--wait', 'also wait for offline nodes (until every operation is final)')
    .option('--ttl <duration>', 'how long operations wait for offline nodes, e.g. 30m (default: controller setting)');
}

/** Reads one password from stdin: the first line, without its line ending. */
async function passwordFromStdin(ctx: CommandContext): Promise<string> {
  const text = await ctx.readStdin();
  const line = text.replace(/\r?\n[\s\S]*$/, '');
  if (!line) throw new UsageError('--password-stdin read no password from stdin');
  return line;
}

/** Runs one unlock or reset wave; returns the exit code. */
export async function runWave(ctx: CommandContext, action: Action, o: WaveOptions): Promise<number> {
  const selector = changeSelector(o);
  const backend = o.backend ? parseBackend(o.backend) : Backend.BACKEND_LINUX;
  const reason = requireReason(o.reason);
  let passwordSource = PasswordSource.PASSWORD_SOURCE_UNSPECIFIED;
  let password = '';
  if (action === Action.ACTION_RESET_PASSWORD) {
    if (Boolean(o.generate) === Boolean(o.passwordStdin))
      throw new UsageError('choose exactly one of --generate and --password-stdin');
    if (o.samePassword && !o.passwordStdin)
      throw new UsageError('--same-password goes with --password-stdin (generated passwords differ per node)');
    if (o.generate) passwordSource = PasswordSource.PASSWORD_SOURCE_GENERATE;
    else {
      passwordSource = PasswordSource.PASSWORD_SOURCE_PROVIDED;
      password = await passwordFromStdin(ctx);
    }
  }
  const base: RequestOperationsRequest = {
    selector,
    backend,
    account: o.account,
    action,
    passwordSource,
    password,
    reason,
    dryRun: true,
    ttlSeconds: o.ttl ? parseDuration(o.ttl, '--ttl') : 0,
    temporary: Boolean(o.temporary),
    samePasswordOnAllNodes: Boolean(o.samePassword),
  };
  const api = ctx.api();
  // The dry run also checks a supplied password against the policy, before anyone is asked to confirm.
  const plan = await api.call(api.client.requestOperations, base);
  const nodes = plan.operations.length;
  const what = `${action === Action.ACTION_UNLOCK ? 'unlock' : 'reset the password of'} ${o.account} (${backendWord(backend)}) on ${nodes} node(s)`;
  if (o.dryRun) {
    if (ctx.json) ctx.out.json(requestJson(plan.request, plan.operations, { dryRun: true, warnings: plan.warnings }));
    else {
      ctx.out.line(
        `dry run: would ${what}${plan.request?.needsApproval ? '; a second person must approve it first (privileged account)' : ''}`,
      );
      ctx.out.line(
        plan.operations.map((op) => `  ${op.nodeId}${op.nodeOnline ? '' : ' (offline: waits for it)'}`).join('\n'),
      );
      for (const w of plan.warnings) ctx.out.line(`warning: ${w}`);
      ctx.out.line('nothing was changed');
    }
    return 0;
  }
  if (nodes > 1 && !o.yes) {
    if (o.passwordStdin || !ctx.isInteractive())
      throw new UsageError(`this would ${what}; add --yes to confirm without a terminal`);
    if (!(await ctx.confirm(`${what.charAt(0).toUpperCase()}${what.slice(1)}?`))) {
      ctx.out.error('cancelled; nothing was changed');
      return 1;
    }
  }
  const res = await api.call(api.client.requestOperations, { ...base, dryRun: false });
  const request = res.request!;
  if (!ctx.json) for (const w of res.warnings) ctx.out.error(`warning: ${w}`);
  if (request.needsApproval) {
    if (ctx.json)
      ctx.out.json(
        requestJson(request, res.operations, { generatedPasswords: res.generatedPasswords, warnings: res.warnings }),
      );
    else {
      ctx.out.line(`request ${request.id} waits for approval by a second person (privileged account).`);
      ctx.out.line(`  approve: fleetpass approve ${request.id} [--note TEXT]    follow: fleetpass watch ${request.id}`);
      if (res.generatedPasswords.length)
        ctx.out.line(operationsTable(res.operations, res.generatedPasswords, ctx.now().getTime()));
    }
    return 0;
  }
  const followed = await followRequest(api, request.id, {
    waitForOffline: o.wait,
    progress: !ctx.json && ctx.stderrIsTty(),
  });
  const summary = outcomeSummary(followed.operations);
  if (ctx.json) {
    ctx.out.json(
      requestJson(followed.request, followed.operations, {
        generatedPasswords: res.generatedPasswords,
        warnings: res.warnings,
        complete: followed.complete,
      }),
    );
  } else {
    ctx.out.line(requestLine(followed.request));
    ctx.out.line(operationsTable(followed.operations, res.generatedPasswords, ctx.now().getTime()));
    ctx.out.line(summary.text);
    if (!followed.complete) ctx.out.line(`follow the rest with: fleetpass watch ${request.id}`);
  }
  if (summary.notSucceeded > 0) {
    const e = new FleetpassError(
      'FP_OPERATIONS_FAILED',
      `${summary.notSucceeded} of ${followed.operations.length} node(s) did not succeed (${summary.text})`,
    );
    ctx.out.error(`error ${e.code}: ${e.message}`);
    return 1;
  }
  return 0;
}
