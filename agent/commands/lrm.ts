/** `fleetpass-agent lrm probe`: runs the LRM probe (agent/commands/lrm-probe.ts) on the `backends.lrm` settings. */
import { createLogger } from '../../shared/logger';
import { loadAgentConfig } from '../config';
import { runLrmProbe } from './lrm-probe';
import { configFile, errorLine, type CommandIo } from './command-io';

export interface LrmProbeOptions {
  config?: string;
  json?: boolean;
}

/** 0 when the LRM backend can be enabled, 1 when not, 2 when backends.lrm is missing or invalid. */
export async function lrmProbeCommand(opts: LrmProbeOptions, io: CommandIo): Promise<number> {
  let lrm;
  try {
    lrm = loadAgentConfig({ file: configFile(opts.config, io.env), env: io.env }).config.backends.lrm;
  } catch (e) {
    io.err(errorLine(e));
    return 2;
  }
  if (!lrm) {
    io.err(
      'error FP_CONFIG_INVALID: backends.lrm is not set in the agent config; add it (see agent/backends/lrm/README.md) and probe again',
    );
    return 2;
  }
  const { enabled: _enabled, ...settings } = lrm;
  const log = createLogger({
    level: io.env.FLEETPASS_LOG_LEVEL ?? 'warn',
    name: 'fleetpass-agent',
    destination: process.stderr,
  });
  return runLrmProbe(settings, io.out, { json: opts.json, log });
}
