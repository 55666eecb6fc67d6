/**
 * Where better-sqlite3 finds its native module. From a checkout or node_modules the package finds its own
 * build. Inside the packaged single executable (scripts/package.mjs) the program's require() sees only Node's
 * built-in modules, so the module the package installs beside the executable is loaded here and handed over.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isSea } from 'node:sea';
import type Database from 'better-sqlite3';

let addon: object | undefined;

/** Options to spread into every `new Database(...)`: empty outside the single executable. */
export function sqliteNativeOptions(): Pick<Database.Options, 'nativeBinding'> {
  if (!isSea()) return {};
  addon ??= createRequire(process.execPath)(join(dirname(process.execPath), 'better_sqlite3.node')) as object;
  // better-sqlite3 accepts the loaded addon object (its types only name the path form).
  return { nativeBinding: addon as unknown as string };
}
