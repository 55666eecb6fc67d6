/**
 * `fleetpass-controller escrow rotate-master-key --new-key-file F [--config C]`, on the controller host
 * against the data file: re-wraps every escrowed data key under a new master key. Stop the controller
 * first; afterwards point escrow.keyFile (or FLEETPASS_ESCROW_KEY) at the new key. Exit 0 ok, 1 failed.
 */
import type { Command } from 'commander';
import { systemClock } from '../../shared/clock';
import { loadControllerConfig } from '../config';
import { rotateMasterKey } from '../escrow/rotate-master-key';
import { localActor, type SetResult } from './local-command';

export function registerEscrowRotateMasterKey(program: Command, setResult: SetResult): void {
  const escrow = program.command('escrow').description('password escrow maintenance on the controller host');
  escrow
    .command('rotate-master-key')
    .description(
      're-wrap every escrowed data key under a new master key (controller stopped; one transaction; audited)',
    )
    .requiredOption(
      '--new-key-file <file>',
      'the new key (32 random bytes, base64, mode 0600); created when it does not exist',
    )
    .option('-c, --config <file>', 'configuration file (YAML or JSON); also FLEETPASS_CONFIG')
    .exitOverride()
    .action((_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ config?: string; newKeyFile: string }>();
      setResult(
        Promise.resolve().then(() => {
          const { config } = loadControllerConfig({ file: opts.config ?? process.env.FLEETPASS_CONFIG });
          const r = rotateMasterKey({
            config,
            newKeyFile: opts.newKeyFile,
            env: process.env,
            clock: systemClock,
            actor: localActor(),
          });
          process.stdout.write(
            [
              `escrow master key changed from ${r.oldKeyId} to ${r.newKeyId}: ${r.rewrapped} escrowed password(s) re-wrapped${r.createdKeyFile ? ` (new key written to ${opts.newKeyFile}, mode 0600)` : ''}.`,
              `Before starting the controller, set escrow.keyFile to ${opts.newKeyFile} (or FLEETPASS_ESCROW_KEY to its contents).`,
              'Keep the old key as long as you keep backups made before now: they need it.',
              '',
            ].join('\n'),
          );
          return 0;
        }),
      );
    });
}
