/**
 * `npm start`: the first run. Starts a controller on its embedded defaults (state under ./.fleetpass),
 * a demo fleet of real agents, each in its own real-PAM sandbox with accounts locked by real failed
 * logins, demo operators with CLI configs, and prints the next steps. Ctrl-C (SIGINT, also to the whole
 * process group, SIGTERM, SIGHUP) stops everything cleanly whatever became of its stdout. Where the
 * machine cannot sandbox (not root, not Linux), it says why and runs the controller alone.
 * `fleetpass-demo lock --node N --account A` locks a demo account again (demo-lock.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { isFleetpassError } from '../../shared/errors';
import { createLogger } from '../../shared/logger';
import { openPrivateLogFile } from '../../shared/private-log-file';
import { sandboxSupported } from '../../shared/pam-sandbox';
import { loadControllerConfig } from '../config';
import { createController } from '../controller';
import type { Principal } from '../service';
import { listAccountViews, listNodeViews } from '../store';
import {
  DEFAULT_DEMO_NODES,
  DEMO_ACCOUNTS,
  DEMO_DENY,
  DEMO_UNLOCK_SECONDS,
  demoLabels,
  demoPassword,
  startDemoFleet,
  stopDemoFleet,
  type DemoNode,
} from './demo-fleet';
import { demoStatusFile, lockDemoAccount, type DemoStatus } from './demo-lock';
import { ensureDemoOperators, type DemoOperator } from './demo-operators';
import { createTerminal, type Terminal } from './terminal';

/** A word for a POSIX shell: as is when plain, else single-quoted. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** UTC to the second, marked with Z. */
function utc(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The next steps, paste-able as printed: the first line defines `fleetpass` and `fleetpass-demo` as shell
 * aliases for the bundles in dist/, so every later hint (and the CLI's own, e.g. "approve: fleetpass
 * approve <id>") works in that terminal without installing anything.
 */
function nextSteps(
  bundles: { cli: string; demo: string },
  admin: DemoOperator,
  approver: DemoOperator,
  webUrl: string,
  nodes: DemoNode[],
): string {
  const rel = (p: string) => relative(process.cwd(), p) || p;
  // The runtime this runs on (the project's Node 24, README "Runtime"), not an older node the shell finds first.
  const alias = (name: string, bundle: string) =>
    `${name}=${shellWord(`${shellWord(process.execPath)} ${shellWord(bundle)}`)}`;
  const lines = [
    '',
    'Try it, in another terminal in this folder (the first line makes `fleetpass` a command there):',
    `  alias ${alias('fleetpass', bundles.cli)} ${alias('fleetpass-demo', bundles.demo)}`,
    `  export FLEETPASS_CLI_CONFIG=${shellWord(admin.cliConfig)}`,
    `  fleetpass nodes`,
    `  fleetpass accounts --locked                       # locked accounts first, with time left`,
    `  fleetpass unlock --label site=bldg7 --account ilmnuser --reason "demo: clear lockout" --yes`,
    `  fleetpass reset --node ${nodes[0]?.spec.id ?? 'NODE'} --account ilmnuser --generate --reason "demo: forgotten password" --yes`,
    `  fleetpass reset --node ${nodes[2]?.spec.id ?? 'NODE'} --account ilmnadmin --generate --reason "demo: privileged" --yes   # waits for approval`,
    `  FLEETPASS_CLI_CONFIG=${shellWord(approver.cliConfig)} fleetpass requests     # then: approve <id>, as the second person`,
    `  fleetpass audit                                   # who did what, when, why`,
    `  fleetpass audit verify`,
    `  fleetpass-demo lock --node ${nodes[1]?.spec.id ?? 'NODE'} --account ilmnuser   # lock an account again (${DEMO_DENY} real failed logins)`,
    '',
    `Web console: ${webUrl}  (sign in with the token in ${rel(admin.tokenFile)})`,
    'Ctrl-C stops the controller, the agents and the sandboxes.',
  ];
  return lines.join('\n');
}

async function waitForReports(
  list: () => Array<{ id: string; online: boolean }>,
  accounts: () => number,
  ids: string[],
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const online = new Set(
      list()
        .filter((n) => n.online)
        .map((n) => n.id),
    );
    if (ids.every((id) => online.has(id)) && accounts() >= ids.length * DEMO_ACCOUNTS.length) return true;
    await sleep(200);
  }
  return false;
}

async function run(opts: { config?: string; controllerOnly?: boolean }, term: Terminal): Promise<number> {
  const { config } = loadControllerConfig({ file: opts.config ?? process.env.FLEETPASS_CONFIG });
  const demoDir = resolve(config.stateDir, 'demo');
  mkdirSync(demoDir, { recursive: true, mode: 0o700 });
  // The terminal shows the summary; the structured logs go to a file.
  const log = createLogger({
    level: config.log.level,
    name: 'fleetpass-demo',
    destination: (await import('pino')).default.destination({
      fd: openPrivateLogFile(join(demoDir, 'controller.log')),
      sync: false,
    }),
  });
  const controller = createController(config, { log });
  let fleet: DemoNode[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (why: string) =>
    (stopping ??= (async () => {
      term.out(`\n${why}: stopping agents, sandboxes and the controller...\n`);
      await stopDemoFleet(fleet);
      await controller.shutdown(why);
      log.flush();
      term.out('stopped cleanly\n');
    })());
  const stopAndExit = (why: string, code: number) =>
    void stop(why).then(
      () => process.exit(code),
      (e: unknown) => {
        log.error({ err: e }, 'demo stop failed');
        process.exit(1);
      },
    );
  // A terminal's Ctrl-C reaches the whole process group, agents included; they drain on their own and the
  // demo's SIGTERM to them is then only noted. SIGHUP: the terminal went away.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stopAndExit(signal, 0));
  // Whatever goes wrong later, the agents and sandboxes do not outlive the demo.
  process.on('uncaughtException', (e) => {
    log.error({ err: e }, 'demo crashed');
    term.err(`FP_INTERNAL: ${e.message}\n`);
    stopAndExit('crash', 1);
  });

  const started = await controller.start();
  const ctx = controller.context();
  const webUrl = started.webUrl ?? '(off: web.enabled is false)';
  const [adminOp, approverOp] = ensureDemoOperators(
    ctx.store.db,
    ctx.audit,
    ctx.clock,
    demoDir,
    started.adminAddress,
    ctx.paths.pkiDir + '/ca.crt',
  );
  term.out(`fleetpass controller running (state in ${config.stateDir})
  agents connect:  ${started.agentAddress}
  admin API:       ${started.adminAddress}
  web console:     ${webUrl}
  metrics:         ${controller.context().integrations.metricsUrl() ?? 'off'}/metrics   (also /healthz, /readyz)
  CA fingerprint:  ${started.caFingerprint}
`);

  const support = opts.controllerOnly
    ? { ok: false, why: 'started with --controller-only' }
    : await sandboxSupported({ probe: true });
  if (!support.ok) {
    term.out(`\nNo demo fleet: ${support.why}. The controller runs alone; enroll real nodes (see README).\n`);
  } else {
    // Demo nodes are not enrolled with tokens, so the labels selectors match are given here, as an admin would.
    const demoAdmin: Principal = { name: 'local:demo', role: 'admin', via: 'local' };
    for (const spec of DEFAULT_DEMO_NODES) {
      ctx.store.nodes.ensure(spec.id, ctx.clock.now());
      ctx.service.setNodeLabels(demoAdmin, { nodeId: spec.id, labels: demoLabels(spec), reason: 'demo fleet' });
    }
    fleet = await startDemoFleet({
      dir: demoDir,
      ca: ctx.pki.ca,
      controllerAddress: started.agentAddress,
      agentBundle: join(__dirname, 'fleetpass-agent.js'),
      nodes: DEFAULT_DEMO_NODES,
      log: log.child({ component: 'demo-fleet' }),
    });
    const ids = fleet.map((n) => n.spec.id);
    const ready = await waitForReports(
      () => listNodeViews(ctx.store),
      () => listAccountViews(ctx.store, { selection: { nodeIds: ids } }).length,
      ids,
      30_000,
    );
    term.out(
      `\nDemo fleet: ${fleet.length} NextSeq-like nodes, each a real agent in its own PAM sandbox (pam_faillock deny=${DEMO_DENY}, unlock_time=${DEMO_UNLOCK_SECONDS / 60} min)${ready ? '' : ' (still connecting; see ' + join(demoDir, '<node>/agent.log') + ')'}\n`,
    );
    // When each lock ends by itself, as the agents report it from the real pam_faillock records.
    const reported = new Map(
      listAccountViews(ctx.store, { selection: { nodeIds: ids } }).map((v) => [
        `${v.node.id}/${v.account.state.account}`,
        v.account.state.lockEnds,
      ]),
    );
    for (const n of fleet) {
      const locked = n.spec.lockedAccounts.length
        ? n.spec.lockedAccounts
            .map((a) => {
              const ends = reported.get(`${n.spec.id}/${a}`);
              return `${a} LOCKED by ${DEMO_DENY} real failed logins${ends ? ` until ${utc(ends)}` : ''}`;
            })
            .join('; ')
        : 'no lockouts';
      term.out(`  ${n.spec.id.padEnd(12)} site=${n.spec.site}  ${locked}\n`);
    }
    term.out(
      `  the locks end by themselves ${DEMO_UNLOCK_SECONDS / 60} minutes after the last failure; lock one again with: fleetpass-demo lock --node NODE --account ACCOUNT\n`,
    );
    term.out(`  initial passwords: ${DEMO_ACCOUNTS.map((a) => `${a} / ${demoPassword(a)}`).join(', ')}\n`);
  }
  // For tests and scripts: where everything is.
  const status: DemoStatus = {
    demoPid: process.pid,
    cliConfig: adminOp.cliConfig,
    approverCliConfig: approverOp.cliConfig,
    adminAddress: started.adminAddress,
    webUrl,
    agentAddress: started.agentAddress,
    nodes: fleet.map((n) => ({
      id: n.spec.id,
      site: n.spec.site,
      sandboxPid: n.sandbox.pid,
      agentPid: n.agent.pid ?? 0,
      pamService: n.sandbox.service,
      locked: n.spec.lockedAccounts,
    })),
  };
  writeFileSync(demoStatusFile(config.stateDir), JSON.stringify(status, null, 2), { mode: 0o600 });
  const bundles = { cli: join(__dirname, 'fleetpass.js'), demo: join(__dirname, 'fleetpass-demo.js') };
  term.out(`${nextSteps(bundles, adminOp, approverOp, webUrl, fleet)}\n`);
  return new Promise<number>(() => undefined); // runs until Ctrl-C
}

const term = createTerminal();

function failed(e: unknown): never {
  term.err(`${isFleetpassError(e) ? e.toString() : `FP_INTERNAL: ${(e as Error)?.message ?? String(e)}`}\n`);
  process.exit(1);
}

const program = new Command('fleetpass-demo')
  .description('first run: a controller on its embedded defaults plus a demo fleet of sandboxed real agents')
  .option('-c, --config <file>', 'controller configuration file (YAML or JSON); also FLEETPASS_CONFIG')
  .option('--controller-only', 'start the controller without the demo fleet')
  .action(async (opts: { config?: string; controllerOnly?: boolean }) => {
    try {
      process.exitCode = await run(opts, term);
    } catch (e) {
      failed(e);
    }
  });
program
  .command('lock')
  .description(`lock a demo account again with ${DEMO_DENY} real failed logins (the running demo in this folder)`)
  .requiredOption('--node <id>', 'the demo node')
  .requiredOption('--account <name>', `the account (${DEMO_ACCOUNTS.join(', ')})`)
  .action(async (opts: { node: string; account: string }) => {
    try {
      const { config } = loadControllerConfig({
        file: program.opts<{ config?: string }>().config ?? process.env.FLEETPASS_CONFIG,
      });
      const r = await lockDemoAccount(config.stateDir, opts.node, opts.account);
      term.out(
        `${r.nodeId}/${r.account} LOCKED by ${r.failures} real failed logins until ${utc(r.lockEnds)} (unless fleetpass unlocks it first); its agent reports it within seconds: fleetpass accounts --locked\n`,
      );
    } catch (e) {
      failed(e);
    }
  });
program.parseAsync(process.argv);
