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
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
  });
}
console.log(`built ${Object.keys(present).join(', ') || 'nothing yet'}`);
