/**
 * The Linux backend's config schema (under `backends.linux` in the agent config) and the context every
 * Linux primitive runs with: the parsed config, an injected clock, a logger and a bound command runner.
 */
import { z } from 'zod';
import { FleetpassError } from '../../../shared/errors';
import { systemClock, type Clock } from '../../../shared/clock';
import { silentLogger, type Logger } from '../../../shared/logger';
import { commandRunner, DEFAULT_COMMAND_TIMEOUT_MS, type CommandRunner } from './run-command';

const absolutePath = z.string().regex(/^\/[^\0]*$/, 'expected an absolute path');
const serviceName = z.string().regex(/^[A-Za-z0-9._-]+$/, 'expected a PAM service file name');

export const linuxBackendConfigSchema = z
  .object({
    /** auto: judge the PAM stacks of the login services; a forced counter reads only that counter (legacy). */
    counter: z.enum(['auto', 'faillock', 'tally2', 'none']).default('auto'),
    /** PAM's configuration directory (libpam's PAM_CONFIG_D). */
    pamDir: absolutePath.default('/etc/pam.d'),
    /**
     * The login services whose verdicts make an account's state, read as libpam reads them (includes,
     * substacks, `other`); empty = sshd, login, gdm-password, su, sudo, cockpit and xrdp-sesman, those present.
     */
    pamServices: z.array(serviceName).default([]),
    /** libpam's module directory (DEFAULT_MODULE_PATH); detected from where pam_unix.so is when unset. */
    pamModuleDir: absolutePath.optional(),
    /** The faillock.conf pam_faillock reads (module arguments override it). */
    faillockConf: absolutePath.default('/etc/security/faillock.conf'),
    /** Overrides pam_tally2's file= argument (default: from /etc/pam.d, else /var/log/tallylog). */
    tallylogPath: absolutePath.optional(),
    passwdPath: absolutePath.default('/etc/passwd'),
    shadowPath: absolutePath.default('/etc/shadow'),
    groupPath: absolutePath.default('/etc/group'),
    /** Every system command is killed after this long. */
    commandTimeoutMs: z.number().int().min(100).max(300_000).default(DEFAULT_COMMAND_TIMEOUT_MS),
    /** How a password lock ("!" in shadow) is removed: `passwd -u` (Illumina's documented way) or `usermod -U`. */
    unlockCommand: z.enum(['passwd', 'usermod']).default('passwd'),
  })
  .strict();

export type LinuxBackendConfig = z.infer<typeof linuxBackendConfigSchema>;
export type LinuxBackendConfigInput = z.input<typeof linuxBackendConfigSchema>;

export interface LinuxBackendOptions {
  /** Parsed or raw config; raw input is validated with linuxBackendConfigSchema. Defaults suit a real node. */
  readonly config?: LinuxBackendConfigInput;
  readonly clock?: Clock;
  readonly log?: Logger;
}

/** What every Linux primitive needs; build it once with createLinuxContext and pass it along. */
export interface LinuxContext {
  readonly config: Readonly<LinuxBackendConfig>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly run: CommandRunner;
}

/** Validates the config (FP_CONFIG_INVALID listing each bad key) and binds the clock, logger and command timeout. */
export function createLinuxContext(options: LinuxBackendOptions = {}): LinuxContext {
  const parsed = linuxBackendConfigSchema.safeParse(options.config ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `backends.linux.${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new FleetpassError('FP_CONFIG_INVALID', `the Linux backend config is not valid: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  const config = Object.freeze(parsed.data);
  return {
    config,
    clock: options.clock ?? systemClock,
    log: (options.log ?? silentLogger()).child({ component: 'linux-backend' }),
    run: commandRunner(config.commandTimeoutMs),
  };
}

let defaultContext: LinuxContext | undefined;

/** The context of a real node (default paths, system clock, silent logger), built once on first use. */
export function defaultLinuxContext(): LinuxContext {
  defaultContext ??= createLinuxContext();
  return defaultContext;
}
