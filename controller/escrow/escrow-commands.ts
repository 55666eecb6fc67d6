/**
 * Local escrow commands of `fleetpass-controller`, on the controller host against the data file:
 *   escrow rotate-master-key --new-key-file F [--config C]
 * Stop the controller first; afterwards point escrow.keyFile (or FLEETPASS_ESCROW_KEY) at the new key.
 * Sets the process result to an exit code (0 ok, 1 failed).
 */
import type { Command } from 'commander';
import { systemClock } from '../../shared/clock';
import { localActor } from '../admin/bootstrap';
import { loadControllerConfig } from '../config';
import { rotateMasterKey } from './rotate-master-key';

export function registerEscrowCommands(program: Command, setResult: (r: number | Promise<number>) => void): void {
  const escrow = program.command('escrow').description('password escrow maintenance on the controller host');
  escrow
    .command('rotate-master-key')
    .description('re-wrap every escrowed data key under a new master key (controller stopped; one transaction; audited)')
    .requiredOption('--new-key-file <file>', 'the new key (32 random bytes, base64, mode 0600); created when it does not exist')
    .option('-c, --config <file>', 'configuration file (YAML or JSON); also FLEETPASS_CONFIG')
    .exitOverride()
    .action((_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ config?: string; newKeyFile: string }>();
      setResult(Promise.resolve().then(() => {
        const { config } = loadControllerConfig({ file: opts.config ?? process.env.FLEETPASS_CONFIG });
        const r = rotateMasterKey({ config, newKeyFile: opts.newKeyFile, env: process.env, clock: systemClock, actor: localActor() });
        process.stdout.write([
          `escrow master key changed from ${r.oldKeyId} to ${r.newKeyId}: ${r.rewrapped} escrowed password(s) re-wrapped${r.createdKeyFile ? ` (new key written to ${opts.newKeyFile}, mode 0600)` : ''}.`,
          `Before starting the controller, set escrow.keyFile to ${opts.newKeyFile} (or FLEETPASS_ESCROW_KEY to its contents).`,
          'Keep the old key as long as you keep backups made before now: they need it.',
          '',
        ].join('\n'));
        return 0;
      }));
    });
}
