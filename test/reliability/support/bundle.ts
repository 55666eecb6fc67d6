/** TEST ONLY: bundles a test child program with esbuild (like the product bundles), so it runs as plain node. */
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

export const REPO = resolve(__dirname, '../../..');

/** Bundles `source` into `outDir/<name>.js`; returns the bundle path. Run it with NODE_PATH=REPO/node_modules. */
export async function bundleChild(source: string, outDir: string, name: string): Promise<string> {
  const outfile = join(outDir, `${name}.js`);
  await build({
    entryPoints: [source],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    external: ['better-sqlite3'],
    banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__importMetaUrl' },
    logLevel: 'warning',
  });
  return outfile;
}
