/**
 * Config is compiled once: schema defaults, then the file (YAML or JSON), then FLEETPASS_* environment,
 * then flags. Every problem is collected and reported with its key and where the value came from; the
 * result is typed and frozen. Settings that are allowed but insecure come back as warnings.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { FleetpassError } from '../errors';

type Plain = Record<string, unknown>;

export interface LoadConfigOptions<S extends z.ZodType> {
  schema: S;
  /** Path of the config file; a missing file is an error only when `fileRequired`. */
  file?: string;
  fileRequired?: boolean;
  /** Environment to read (process.env by default) and its prefix (FLEETPASS_). */
  env?: NodeJS.ProcessEnv;
  envPrefix?: string;
  /** Environment names under the prefix that are not config keys (e.g. FLEETPASS_CONFIG). */
  envIgnore?: readonly string[];
  /**
   * The program's top-level keys. The agent, the controller and the CLI share the FLEETPASS_ prefix, so a
   * name whose first segment is not one of these belongs to another program and is skipped.
   */
  envKeys?: readonly string[];
  /** Values from command-line flags, as a nested object; undefined leaves are skipped. */
  flags?: Plain;
  /** Dotted keys that must not be written in the file (secrets: environment or a file of their own only). */
  fileForbidden?: readonly string[];
  /** Insecure-but-allowed settings: return one sentence per problem. */
  warn?: (config: z.infer<S>) => string[];
}

export interface LoadedConfig<T> {
  config: Readonly<T>;
  warnings: string[];
  /** The file that was read, if any. */
  file?: string;
}

/** FLEETPASS_STATE_DIR -> ["stateDir"]; FLEETPASS_GRPC__LISTEN_ADDRESS -> ["grpc", "listenAddress"]. */
export function envNameToPath(name: string, prefix: string): string[] {
  return name
    .slice(prefix.length)
    .split('__')
    .map((seg) => seg.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
}

function parseEnvValue(raw: string): unknown {
  const t = raw.trim();
  if (/^(true|false|null|-?\d+(\.\d+)?)$/.test(t) || t.startsWith('[') || t.startsWith('{')) {
    try {
      return JSON.parse(t);
    } catch {
      return raw;
    }
  }
  return raw;
}

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Merges `layer` into `target`, recording the origin of every leaf it sets. */
function mergeLayer(
  target: Plain,
  layer: Plain,
  origin: string,
  origins: Map<string, string>,
  prefix: string[] = [],
): void {
  for (const [k, v] of Object.entries(layer)) {
    if (v === undefined) continue;
    const path = [...prefix, k];
    if (isPlain(v) && isPlain(target[k])) {
      mergeLayer(target[k] as Plain, v, origin, origins, path);
    } else {
      target[k] = isPlain(v) ? structuredClone(v) : v;
      origins.set(path.join('.'), origin);
    }
  }
}

function setPath(obj: Plain, path: string[], value: unknown): void {
  let cur = obj;
  for (const seg of path.slice(0, -1)) {
    if (!isPlain(cur[seg])) cur[seg] = {};
    cur = cur[seg] as Plain;
  }
  cur[path[path.length - 1]] = value;
}

function hasPath(obj: Plain, path: string[]): boolean {
  let cur: unknown = obj;
  for (const seg of path) {
    if (!isPlain(cur) || !(seg in cur)) return false;
    cur = cur[seg];
  }
  return true;
}

function originOf(path: string, origins: Map<string, string>): string {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const o = origins.get(p);
    if (o) return o;
  }
  return 'default';
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

function readFile(file: string, required: boolean): Plain | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !required) return undefined;
    throw new FleetpassError('FP_CONFIG_UNREADABLE', `cannot read config file ${file}: ${(e as Error).message}`, {
      cause: e,
      details: { file },
    });
  }
  let parsed: unknown;
  try {
    parsed = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new FleetpassError(
      'FP_CONFIG_INVALID',
      `${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`,
      { cause: e, details: { file } },
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isPlain(parsed))
    throw new FleetpassError('FP_CONFIG_INVALID', `${file}: the top level must be a mapping of keys to values`, {
      details: { file },
    });
  return parsed;
}

/** Loads, validates and freezes a configuration; throws FP_CONFIG_INVALID listing every problem. */
export function loadConfig<S extends z.ZodType>(options: LoadConfigOptions<S>): LoadedConfig<z.infer<S>> {
  const prefix = options.envPrefix ?? 'FLEETPASS_';
  const env = options.env ?? process.env;
  const ignore = new Set(options.envIgnore ?? []);
  const known = options.envKeys ? new Set(options.envKeys) : undefined;
  const origins = new Map<string, string>();
  const merged: Plain = {};

  const fromFile = options.file ? readFile(options.file, options.fileRequired ?? false) : undefined;
  if (fromFile) {
    const found = (options.fileForbidden ?? []).filter((key) => hasPath(fromFile, key.split('.')));
    if (found.length > 0)
      throw new FleetpassError(
        'FP_CONFIG_INVALID',
        `invalid configuration:\n  ${found.map((k) => `${options.file}: ${k}: a secret must not be written in the config file; set it in the environment or in a file of its own`).join('\n  ')}`,
        { details: { file: options.file, keys: found } },
      );
    mergeLayer(merged, fromFile, options.file!, origins);
  }

  const fromEnv: Plain = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(prefix) || ignore.has(name) || raw === undefined) continue;
    const path = envNameToPath(name, prefix);
    if (known && !known.has(path[0])) continue;
    setPath(fromEnv, path, parseEnvValue(raw));
    origins.set(path.join('.'), name);
  }
  mergeLayer(merged, fromEnv, 'environment', new Map());
  if (options.flags) mergeLayer(merged, options.flags, 'flag', origins);

  const result = options.schema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.') || '(top level)';
      const keys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
      return `${originOf(key, origins)}: ${key}: ${issue.message}${keys}`;
    });
    throw new FleetpassError('FP_CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`, {
      details: { problems },
    });
  }
  const config = deepFreeze(result.data) as z.infer<S>;
  return { config, warnings: options.warn ? options.warn(config) : [], file: fromFile ? options.file : undefined };
}
