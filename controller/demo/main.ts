/**
 * `npm start`: the first run. Starts a controller on its embedded defaults (state under ./.fleetpass),
 * a demo fleet of real agents, each in its own real-PAM sandbox with accounts locked by real failed
 * logins, demo operators with CLI configs, and prints the next steps. Ctrl-C stops everything cleanly.
 * Where the machine cannot sandbox (not root, not Linux), it says why and runs the controller alone.
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
  demoLabels,
  demoPassword,
  startDemoFleet,
  stopDemoFleet,
  type DemoNode,
} from './demo-fleet';
import { ensureDemoOperators, type DemoOperator } from './demo-operators';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function nextSteps(
  cli: string,
  admin: DemoOperator,
  approver: DemoOperator,
  webUrl: string,
  nodes: DemoNode[],
): string {
  const rel = (p: string) => relative(process.cwd(), p) || p;
  const lines = [
    '',
    'Try it, in another terminal in this folder:',
    `  export FLEETPASS_CLI_CONFIG=${admin.cliConfig}`,
    `  ${cli} nodes`,
    `  ${cli} accounts --locked                       # locked accounts first, with time left`,
    `  ${cli} unlock --label site=bldg7 --account ilmnuser --reason "demo: clear lockout" --yes`,
    `  ${cli} reset --node ${nodes[0]?.spec.id ?? 'NODE'} --account ilmnuser --generate --reason "demo: forgotten password" --yes`,
    `  ${cli} reset --node ${nodes[2]?.spec.id ?? 'NODE'} --account ilmnadmin --generate --reason "demo: privileged" --yes   # waits for approval`,
    `  FLEETPASS_CLI_CONFIG=${approver.cliConfig} ${cli} requests     # then: approve <id>, as the second person`,
    `  ${cli} audit                                   # who did what, when, why`,
    `  ${cli} audit verify`,
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

async function run(opts: { config?: string; controllerOnly?: boolean }): Promise<number> {
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
  const stop = (signal: string) =>
    (stopping ??= (async () => {
      process.stdout.write(`\n${signal}: stopping agents, sandboxes and the controller...\n`);
      await stopDemoFleet(fleet);
      await controller.shutdown(signal);
      log.flush();
      process.stdout.write('stopped cleanly\n');
    })());
  process.on(
    'SIGINT',
    () =>
      void stop('SIGINT').then(
        () => process.exit(0),
        () => process.exit(1),
      ),
  );
  process.on(
    'SIGTERM',
    () =>
      void stop('SIGTERM').then(
        () => process.exit(0),
        () => process.exit(1),
      ),
  );

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
  const cliPath = relative(process.cwd(), join(__dirname, 'fleetpass.js'));
  const cli = `node ${cliPath.startsWith('..') ? join(__dirname, 'fleetpass.js') : cliPath}`;
  process.stdout.write(`fleetpass controller running (state in ${config.stateDir})
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
    process.stdout.write(
      `\nNo demo fleet: ${support.why}. The controller runs alone; enroll real nodes (see README).\n`,
    );
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
    process.stdout.write(
      `\nDemo fleet: ${fleet.length} NextSeq-like nodes, each a real agent in its own PAM sandbox (pam_faillock deny=${DEMO_DENY}, 10 min lock)${ready ? '' : ' (still connecting; see ' + join(demoDir, '<node>/agent.log') + ')'}\n`,
    );
    for (const n of fleet) {
      const locked = n.spec.lockedAccounts.length
        ? `${n.spec.lockedAccounts.join(', ')} LOCKED by ${DEMO_DENY} real failed logins`
        : 'no lockouts';
      process.stdout.write(`  ${n.spec.id.padEnd(12)} site=${n.spec.site}  ${locked}\n`);
    }
    process.stdout.write(`  initial passwords: ${DEMO_ACCOUNTS.map((a) => `${a} / ${demoPassword(a)}`).join(', ')}\n`);
  }
  // For tests and scripts: where everything is.
  writeFileSync(
    join(demoDir, 'status.json'),
    JSON.stringify(
      {
        cliConfig: adminOp.cliConfig,
        approverCliConfig: approverOp.cliConfig,
        adminAddress: started.adminAddress,
        webUrl,
        agentAddress: started.agentAddress,
        nodes: fleet.map((n) => ({
          id: n.spec.id,
          site: n.spec.site,
          sandboxPid: n.sandbox.pid,
          pamService: n.sandbox.service,
          locked: n.spec.lockedAccounts,
        })),
      },
      null,
      2,
    ),
    { mode: 0o600 },
  );
  process.stdout.write(`${nextSteps(cli, adminOp, approverOp, webUrl, fleet)}\n`);
  return new Promise<number>(() => undefined); // runs until Ctrl-C
}

const program = new Command('fleetpass-demo')
  .description('first run: a controller on its embedded defaults plus a demo fleet of sandboxed real agents')
  .option('-c, --config <file>', 'controller configuration file (YAML or JSON); also FLEETPASS_CONFIG')
  .option('--controller-only', 'start the controller without the demo fleet')
  .action(async (opts: { config?: string; controllerOnly?: boolean }) => {
    try {
      process.exitCode = await run(opts);
    } catch (e) {
      process.stderr.write(
        `${isFleetpassError(e) ? e.toString() : `FP_INTERNAL: ${(e as Error)?.message ?? String(e)}`}\n`,
      );
      process.exit(1);
    }
  });
program.parseAsync(process.argv);
