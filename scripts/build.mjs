// Bundles each program into one JavaScript file under dist/ (the agent ships as one file plus Node).
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

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
    target: 'node20',
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
console.log(`built ${Object.keys(present).join(', ') || 'nothing yet'}`);
