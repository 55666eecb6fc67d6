/**
 * BENCHMARK ONLY: where benchmark files live. Bundles and the PKI cache sit under node_modules/.cache
 * (never committed, found by Node's module lookup for better-sqlite3); controller data files go to the
 * real disk (os.tmpdir()) so fsync costs what it costs; simulated nodes keep their journals on tmpfs
 * (/dev/shm), standing in for each node's own disk instead of piling 1,000 nodes' fsyncs onto the
 * controller's one.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The fleetpass checkout this code runs from (source or bundle): the nearest package.json named fleetpass. */
function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'fleetpass')
      return dir;
    if (dirname(dir) === dir) throw new Error(`no fleetpass package.json above ${from}`);
  }
}

export const REPO_ROOT = findRepoRoot(__dirname);

/** Cache root: FLEETPASS_BENCH_CACHE or <repo>/node_modules/.cache/fleetpass-bench. */
export function cacheDir(): string {
  const dir = process.env.FLEETPASS_BENCH_CACHE ?? join(REPO_ROOT, 'node_modules', '.cache', 'fleetpass-bench');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The bundled entry `name` (built by bench/run.mjs next to this bundle, or in FLEETPASS_BENCH_BUILD). */
export function bundle(name: string): string {
  return join(process.env.FLEETPASS_BENCH_BUILD ?? __dirname, `${name}.js`);
}

/** A fresh folder on the real disk for a controller's state. */
export function diskScratch(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `fleetpass-bench-${prefix}-`));
}

/** A fresh folder on tmpfs (falls back to the disk when /dev/shm is missing). */
export function shmScratch(prefix: string): string {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  return mkdtempSync(join(base, `fleetpass-bench-${prefix}-`));
}
