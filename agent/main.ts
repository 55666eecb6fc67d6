/** `fleetpass-agent`: the node daemon (`run`) and the on-site commands (`enroll`, `accounts`, `doctor`, `check-config`, `lrm probe`). */
import { Command, Option } from 'commander';
import { exitQuietlyOnEpipe } from '../shared/quiet-epipe';
import { accountsCommand } from './commands/accounts';
import { checkConfigCommand } from './commands/check-config';
import { doctorCommand } from './commands/doctor';
import { processIo } from './commands/command-io';
import { enrollCommand, readProcessStdin } from './commands/enroll';
import { lrmProbeCommand } from './commands/lrm';
import { runCommand } from './commands/run';
import { AGENT_VERSION } from './version';

/** Builds the command tree; each action sets the process exit code (0 ok, 1 failed, 2 usage). */
export function buildProgram(): Command {
  const finish = (code: number) => {
    process.exitCode = code;
  };
  const program = new Command('fleetpass-agent')
    .description('fleetpass node agent: applies unlock/reset operations from the controller within local policy')
    .version(AGENT_VERSION)
    .showHelpAfterError()
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  const configOption = '--config <file>';
  const configHelp = 'agent config file (default $FLEETPASS_CONFIG or /etc/fleetpass/agent.yaml)';

  program
    .command('run')
    .description('run the agent daemon until SIGTERM (drains the operation in flight)')
    .option(configOption, configHelp)
    .action(async (opts) => {
      const code = await runCommand(opts, processIo);
      // Exit explicitly: the daemon may hold sockets and timers that would keep the process alive.
      process.exit(code);
    });

  program
    .command('enroll')
    .description(
      "get this node's certificate from the controller with a one-time token (read from a file or stdin, never argv)",
    )
    .option(configOption, configHelp)
    .option('--controller <host:port>', "the controller's agent address (default: controller.address from the config)")
    .option('--ca-fingerprint <sha256:hex>', "the controller CA's fingerprint, printed by the controller at start")
    .option('--token-file <file>', 'read the enrollment token from this file (default: stdin)')
    .option('--force', 'enroll again although a certificate exists')
    .option('--timeout <seconds>', 'give up after this long', '30')
    .addOption(new Option('--token <token>').hideHelp())
    .action(async (opts) =>
      finish(
        await enrollCommand({ ...opts, timeoutSeconds: opts.timeout }, { ...processIo, readStdin: readProcessStdin }),
      ),
    );

  program
    .command('accounts')
    .description('show the state of the managed accounts on this node, locked first (read-only)')
    .argument('[names...]', 'inspect these accounts instead of the policy list')
    .option(configOption, configHelp)
    .option('--backend <name>', 'backend for named accounts (linux, lrm)', 'linux')
    .option('--json', 'machine-readable output')
    .action(async (names: string[], opts) => finish(await accountsCommand(names, opts, processIo)));

  program
    .command('doctor')
    .description(
      "explain the Linux lock verdicts: PAM files and lines read per login service, counters and thresholds, each account's verdict (read-only)",
    )
    .argument('[names...]', 'explain these accounts instead of the Linux accounts of the policy')
    .option(configOption, configHelp)
    .option('--json', 'machine-readable output')
    .action(async (names: string[], opts) => finish(await doctorCommand(names, opts, processIo)));

  program
    .command('check-config')
    .description('validate the config, TLS files and backends; print the effective config without secrets')
    .option(configOption, configHelp)
    .option('--json', 'machine-readable output')
    .action(async (opts) => finish(await checkConfigCommand(opts, processIo)));

  program
    .command('lrm')
    .description('Local Run Manager helpers')
    .command('probe')
    .description('check which LRM endpoints this instrument answers (read-only) before enabling the backend')
    .option(configOption, configHelp)
    .option('--json', 'machine-readable output')
    .action(async (opts) => finish(await lrmProbeCommand(opts, processIo)));

  return program;
}

if (require.main === module) {
  // `run` logs through pino's own stream, so this only ends the one-shot commands (check-config | head).
  exitQuietlyOnEpipe();
  buildProgram()
    .parseAsync(process.argv)
    .catch(() => {
      process.stderr.write(
        'error FP_INTERNAL: an internal error occurred; run with FLEETPASS_LOG_LEVEL=debug and see the log\n',
      );
      process.exitCode = 1;
    });
}
