/** `fleetpass unlock`: clear the lockout of one account on one node, a list, or a selection, as one wave. */
import type { Command } from 'commander';
import { Action } from '../../../shared/gen/fleetpass/v1/common';
import { runWave, waveOptions, type WaveOptions } from '../change-wave';
import { runCommand, type GlobalOptions } from '../command-context';

export function registerUnlock(program: Command, globals: () => GlobalOptions): void {
  waveOptions(
    program.command('unlock').description('clear failed-login locks of an account on the chosen nodes'),
  ).action(async (opts: WaveOptions) => {
    process.exitCode = await runCommand(globals(), (ctx) => runWave(ctx, Action.ACTION_UNLOCK, opts));
  });
}
