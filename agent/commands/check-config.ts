/**
 * `fleetpass-agent check-config`: validates the config (naming every bad key), checks the TLS files and
 * the node identity, builds the enabled backends, and prints the effective config with every secret
 * redacted, then the warnings. Changes nothing.
 */
import { stringify } from 'yaml';
import { createLogger, redactSecrets } from '../../shared/logger';
import { systemClock, type Clock } from '../../shared/clock';
import { FleetpassError } from '../../shared/errors';
import { createBackends } from '../backends/registry';
import { loadAgentConfig } from '../config';
import { backendName } from '../policy';
import { readTlsMaterial } from '../tls-material';
import { configFile, errorLine, type CommandIo } from './command-io';

export interface CheckConfigOptions {
  config?: string;
  json?: boolean;
}

const EXPIRY_WARNING_DAYS = 30;

/** 0 when the config is valid and usable (warnings allowed), 1 when it is not. */
export async function checkConfigCommand(
  opts: CheckConfigOptions,
  io: CommandIo,
  deps: { clock?: Clock } = {},
): Promise<number> {
  const clock = deps.clock ?? systemClock;
  const file = configFile(opts.config, io.env);
  let loaded;
  try {
    loaded = loadAgentConfig({ file, env: io.env });
  } catch (e) {
    io.err(errorLine(e));
    return 1;
  }
  const { config } = loaded;
  const warnings = [...loaded.warnings];
  const problems: string[] = [];

  let nodeId: string | undefined;
  let notAfter: Date | undefined;
  try {
    const tls = readTlsMaterial(config.controller);
    nodeId = tls.nodeId;
    notAfter = tls.notAfter;
    const daysLeft = (tls.notAfter.getTime() - clock.now().getTime()) / 86_400_000;
    if (daysLeft < 0)
      problems.push(
        errorLine(
          new FleetpassError(
            'FP_TLS_MATERIAL',
            `the node certificate ${config.controller.certFile} expired on ${tls.notAfter.toISOString()}`,
          ),
        ),
      );
    else if (daysLeft < EXPIRY_WARNING_DAYS)
      warnings.push(`the node certificate expires in ${Math.floor(daysLeft)} days (${tls.notAfter.toISOString()})`);
  } catch (e) {
    problems.push(errorLine(e));
  }

  const backends: { backend: string; description: string }[] = [];
  try {
    // Backend warnings are already in `warnings`; only errors from building them go to the log.
    const log = createLogger({
      level: io.env.FLEETPASS_LOG_LEVEL ?? 'error',
      name: 'fleetpass-agent',
      destination: process.stderr,
    });
    for (const [b, impl] of createBackends(config.backends, { log, clock }))
      backends.push({ backend: backendName(b), description: impl.describe().description });
  } catch (e) {
    problems.push(errorLine(e));
  }

  const effective = redactSecrets(config);
  if (opts.json) {
    io.out(
      JSON.stringify(
        {
          file: loaded.file ?? null,
          valid: problems.length === 0,
          nodeId: nodeId ?? null,
          certificateNotAfter: notAfter ?? null,
          backends,
          warnings,
          problems,
          config: effective,
        },
        null,
        2,
      ),
    );
  } else {
    io.out(`# effective configuration from ${loaded.file ?? 'embedded defaults'} (secrets redacted)`);
    io.out(stringify(effective).trimEnd());
    if (nodeId) io.out(`# node id (certificate CN): ${nodeId}, certificate valid until ${notAfter!.toISOString()}`);
    for (const b of backends) io.out(`# backend ${b.backend}: ${b.description}`);
    for (const w of warnings) io.err(`warning: ${w}`);
    for (const p of problems) io.err(p);
    io.out(problems.length === 0 ? '# configuration ok' : '# configuration NOT usable');
  }
  return problems.length === 0 ? 0 : 1;
}
