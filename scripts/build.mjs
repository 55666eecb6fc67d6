// Bundles each program into one JavaScript file under dist/ (the agent ships as one file plus Node).
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';

const entries = {
  'fleetpass-agent': 'agent/main.ts',
  'fleetpass-controller': 'controller/main.ts',
  fleetpass: 'controller/cli/main.ts',
  'fleetpass-demo': 'controller/demo/main.ts',
};

const present = Object.fromEntries(Object.entries(entries).filter(([, src]) => existsSync(src)));
if (Object.keys(present).length > 0) {
  await build({
    entryPoints: present,
    outdir: 'dist',
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    sourcemap: true,
    // Native modules and the browser driver stay outside the bundles; the agent has none.
    external: ['better-sqlite3', 'playwright-core'],
    // Some dependencies (node-cron 4) are ESM and read import.meta.url; give the CJS bundle a real one.
    banner: { js: "#!/usr/bin/env node\nconst __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__importMetaUrl' },
    logLevel: 'warning',
  });
}

// The web console: browser code and CSS bundled into dist/web with its HTML; shipped with the package,
// nothing fetched at run time.
const ui = 'controller/web/ui';
if (existsSync(`${ui}/main.ts`)) {
  rmSync('dist/web', { recursive: true, force: true });
  await build({
    entryPoints: { app: `${ui}/main.ts` },
    outdir: 'dist/web',
    bundle: true,
    platform: 'browser',
    target: ['chrome109', 'firefox115', 'safari16', 'edge109'],
    format: 'iife',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  mkdirSync('dist/web', { recursive: true });
  for (const f of ['index.html', 'favicon.svg']) copyFileSync(`${ui}/${f}`, `dist/web/${f}`);
  present.web = ui;
}
console.log(`built ${Object.keys(present).join(', ') || 'nothing yet'}`);
