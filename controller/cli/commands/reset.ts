/**
 * `fleetpass reset`: set a new password (generated per node with --generate and shown once, or one read
 * from stdin with --password-stdin) and clear the lock, on one node, a list, or a selection.
 */
import type { Command } from 'commander';
import { Action } from '../../../shared/gen/fleetpass/v1/common';
import { runWave, waveOptions, type WaveOptions } from '../change-wave';
import { runCommand, type GlobalOptions } from '../command-context';

export function registerReset(program: Command, globals: () => GlobalOptions): void {
  waveOptions(
    program.command('reset').description('set a new password and clear the lock of an account on the chosen nodes'),
  )
    .option('--generate', 'generate a strong random password per node (shown once)')
    .option('--password-stdin', 'read the new password from stdin (one line)')
    .option('--same-password', 'with --password-stdin on more than one node: yes, set this one password on every node')
    .option('--temporary', 'LRM only: the user must choose a new password at the next login')
    .action(async (opts: WaveOptions) => {
      process.exitCode = await runCommand(globals(), (ctx) => runWave(ctx, Action.ACTION_RESET_PASSWORD, opts));
    });
}
