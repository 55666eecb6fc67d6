/**
 * The plugins a full controller runs (password escrow, admin API, web console), built once for main and
 * the demo alike. Given the config, the escrow master key is checked against the data file (read-only)
 * here, before the controller opens it: when the file holds escrow, a missing or wrong key stops the start
 * with nothing changed (FP_ESCROW_KEY_MISSING / FP_ESCROW_KEY_WRONG). A first start creates the key later,
 * in the plugin, once the data file has opened.
 */
import { adminApiPlugin, type AdminApiPlugin } from './admin/admin-plugin';
import type { ControllerConfig } from './config';
import type { ControllerPlugin } from './controller';
import { checkDatabaseKey, escrowPlugin, type EscrowPlugin } from './escrow';
import { webConsolePlugin, type WebConsolePlugin } from './web/web-plugin';

export interface StandardPlugins {
  escrow: EscrowPlugin;
  admin: AdminApiPlugin;
  web: WebConsolePlugin;
  /** In start order. */
  list: ControllerPlugin[];
}

export function createStandardPlugins(config?: ControllerConfig, env: NodeJS.ProcessEnv = process.env): StandardPlugins {
  const masterKey = config?.escrow.enabled ? checkDatabaseKey({ keyFile: config.escrow.keyFile, env, databaseFile: config.database }) : undefined;
  const escrow = escrowPlugin({ masterKey, env });
  const admin = adminApiPlugin({ extensions: () => ({ escrow: escrow.extension() }) });
  const web = webConsolePlugin({ admin: () => admin.service() });
  return { escrow, admin, web, list: [escrow, admin, web] };
}
