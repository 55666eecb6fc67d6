/**
 * What the controller's local commands share: the data file and PKI folder from the config, the audit
 * actor of a local command, and the exit-code convention (0 ok, 1 failed, 2 usage: a UsageError).
 */
import { userInfo } from 'node:os';
import { loadControllerConfig } from '../config';
import { UsageError } from '../../shared/usage-error';

export interface CommonOptions {
  config?: string;
  database?: string;
}

/** Sets the process result: an exit code or its promise. */
export type SetResult = (r: number | Promise<number>) => void;

/** The configured data file (or --database) and PKI folder. */
export function databaseOf(opts: CommonOptions): { database: string; pkiDir: string } {
  const { config } = loadControllerConfig({ file: opts.config ?? process.env.FLEETPASS_CONFIG });
  return { database: opts.database ?? config.database, pkiDir: config.tls.dir };
}

/** The audit actor for local commands: "local:<unix user>" (a ":" no operator name can contain). */
export function localActor(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry for this uid
  }
  return `local:${user}`;
}

/** Usage mistakes exit 2 with one line; other errors go to the caller (exit 1 with the code). */
export function usageTo2(fn: () => number | Promise<number>): Promise<number> {
  return Promise.resolve()
    .then(fn)
    .catch((e: unknown) => {
      if (!(e instanceof UsageError)) throw e;
      console.error(`usage: ${e.message}`);
      return 2;
    });
}
