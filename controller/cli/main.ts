/** `fleetpass`: the IT command line for the fleet: status, unlock, reset, approvals, audit. */
import { Command } from 'commander';
import { exitQuietlyOnEpipe } from '../../shared/quiet-epipe';
import type { GlobalOptions } from './command-context';
import { registerAccounts } from './commands/accounts';
import { registerApprove } from './commands/approve';
import { registerAudit } from './commands/audit';
import { registerCancel } from './commands/cancel';
import { registerEnrollTokens } from './commands/enroll-tokens';
import { registerEscrow } from './commands/escrow';
import { registerLogin } from './commands/login';
import { registerNodes } from './commands/nodes';
import { registerOperators } from './commands/operators';
import { registerReject } from './commands/reject';
import { registerRequests } from './commands/requests';
import { registerReset } from './commands/reset';
import { registerReveal } from './commands/reveal';
import { registerRotate } from './commands/rotate';
import { registerTokens } from './commands/tokens';
import { registerUnlock } from './commands/unlock';
import { registerWatch } from './commands/watch';
import { registerWhoami } from './commands/whoami';

export function buildProgram(): Command {
  const program = new Command('fleetpass')
    .description('reset passwords and clear lockouts across a fleet of lab instruments')
    .option(
      '--config <file>',
      'CLI config file (default $FLEETPASS_CLI_CONFIG, $FLEETPASS_CONFIG or ~/.config/fleetpass/cli.yaml)',
    )
    .option('--controller <host:port>', 'controller admin API address')
    .option('--json', 'machine-readable output for read commands')
    .showHelpAfterError()
    .exitOverride((err) => {
      // commander's own usage errors exit 2, as every fleetpass usage error does; help and version exit 0.
      process.exit(err.exitCode === 0 ? 0 : 2);
    });
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  for (const register of [
    registerNodes,
    registerAccounts,
    registerUnlock,
    registerReset,
    registerRequests,
    registerApprove,
    registerReject,
    registerCancel,
    registerWatch,
    registerReveal,
    registerRotate,
    registerEscrow,
    registerOperators,
    registerTokens,
    registerEnrollTokens,
    registerWhoami,
    registerLogin,
    registerAudit,
  ]) {
    register(program, globals);
  }
  return program;
}

if (require.main === module) {
  exitQuietlyOnEpipe();
  buildProgram()
    .parseAsync(process.argv)
    .catch((e: unknown) => {
      process.stderr.write(`error FP_INTERNAL: ${(e as Error).message}\n`);
      process.exitCode = 1;
    });
}
