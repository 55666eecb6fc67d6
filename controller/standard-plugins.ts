/** The plugins a full controller runs (admin API, web console), built once for main and the demo alike. */
import { adminApiPlugin, type AdminApiPlugin } from './admin/admin-plugin';
import type { ControllerPlugin } from './controller';
import { webConsolePlugin, type WebConsolePlugin } from './web/web-plugin';

export interface StandardPlugins {
  admin: AdminApiPlugin;
  web: WebConsolePlugin;
  /** In start order. */
  list: ControllerPlugin[];
}

export function createStandardPlugins(): StandardPlugins {
  const admin = adminApiPlugin();
  const web = webConsolePlugin({ admin: () => admin.service() });
  return { admin, web, list: [admin, web] };
}
