// `npm run bench`: bundles the benchmark programs with esbuild (like scripts/build.mjs bundles the
// product) into node_modules/.cache/fleetpass-bench/build, then runs bench-main.js with the arguments
// given after `--` (see bench/README.md). Plain node processes: no loader in any measured process.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = process.env.FLEETPASS_BENCH_CACHE ?? join(repo, 'node_modules', '.cache', 'fleetpass-bench');
const out = join(cache, 'build');
mkdirSync(out, { recursive: true });

const entries = {
  'bench-main': 'bench/bench-main.ts',
  'controller-main': 'bench/lib/controller-main.ts',
  'fleet-worker': 'bench/fleet/fleet-worker.ts',
  'bare-server': 'bench/baseline/bare-server.ts',
  'bare-worker': 'bench/baseline/bare-worker.ts',
  'agent-child': 'bench/agent-rest/agent-child.ts',
  'bare-client-child': 'bench/agent-rest/bare-client-child.ts',
};

await build({
  entryPoints: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, join(repo, v)])),
  outdir: out,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  sourcemap: true,
  external: ['better-sqlite3', 'playwright-core'],
  banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__importMetaUrl' },
  logLevel: 'warning',
});

const child = spawn(process.execPath, ['--enable-source-maps', join(out, 'bench-main.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: repo,
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
