// npm run package: the agent and the controller as Node single executable applications (the project's Node
// runtime inside), and for each a Debian package (dpkg-deb) and an RPM (rpmbuild) with its systemd unit, its
// example config as a kept-on-upgrade config file and its state folder; SHA-256 checksums beside them.
//
//   node scripts/package.mjs [--version X.Y.Z] [--out DIR] [--only agent|controller] [--formats sea,deb,rpm]
//
// The units are deploy/systemd's, unchanged; a packaging drop-in (deploy/packaging/) points ExecStart at the
// executable and keeps the service from starting before it can run (the agent before enrollment). The
// executables are never stripped: the application is a section appended to the Node binary.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const { values: opt } = parseArgs({
  options: {
    version: { type: 'string', default: pkg.version },
    out: { type: 'string', default: join(root, 'dist/packages') },
    only: { type: 'string' },
    formats: { type: 'string', default: 'sea,deb,rpm' },
  },
});
if (!/^\d+\.\d+\.\d+$/.test(opt.version)) throw new Error(`--version must be X.Y.Z, not ${opt.version}`);
const out = resolve(opt.out);
const formats = new Set(opt.formats.split(','));
const work = join(out, '.work');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const runtime = realpathSync(process.execPath);

function run(cmd, args, options = {}) {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...options });
}

/** Bundles `entry` into one CommonJS file for a single executable (only built-in modules stay outside). */
async function bundle(entry, outfile) {
  await build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    // The controller's store loads the native module from beside the executable (controller/store/sqlite.ts).
    external: ['playwright-core'],
    banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__importMetaUrl' },
    logLevel: 'warning',
  });
}

/** A Node single executable application: the runtime binary with the bundled program injected. */
async function sea(name, entry) {
  const main = join(work, `${name}.js`);
  const blob = join(work, `${name}.blob`);
  const exe = join(out, `${name}-linux-x64`);
  await bundle(entry, main);
  const config = join(work, `${name}.sea.json`);
  writeFileSync(
    config,
    JSON.stringify({
      main,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: false,
    }),
  );
  run(runtime, ['--experimental-sea-config', config]);
  rmSync(exe, { force: true });
  copyFileSync(runtime, exe);
  chmodSync(exe, 0o755);
  await require('postject').inject(exe, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
  // The program runs (no node on PATH): the agent says its version, the controller its usage.
  const bare = { env: { PATH: '/nonexistent' } };
  if (name === 'fleetpass-agent') {
    const version = run(exe, ['--version'], bare).trim();
    if (version !== pkg.version) throw new Error(`${exe} --version printed ${version}, expected ${pkg.version}`);
  } else run(exe, ['--help'], bare);
  return exe;
}

/** What each package installs, described once for both formats. */
function layouts() {
  const unitDir = '/usr/lib/systemd/system';
  return {
    agent: {
      name: 'fleetpass-agent',
      summary: 'fleetpass agent: password reset and lockout clearing for this node',
      service: 'fleetpass-agent.service',
      files: [
        { src: join(out, 'fleetpass-agent-linux-x64'), dst: '/usr/bin/fleetpass-agent', mode: 0o755 },
        { src: join(root, 'deploy/systemd/fleetpass-agent.service'), dst: `${unitDir}/fleetpass-agent.service` },
        {
          src: join(root, 'deploy/packaging/fleetpass-agent.service.d/package.conf'),
          dst: `${unitDir}/fleetpass-agent.service.d/package.conf`,
        },
        {
          src: join(root, 'deploy/systemd/fleetpass-agent-ssr.conf'),
          dst: '/usr/share/fleetpass-agent/fleetpass-agent-ssr.conf',
        },
      ],
      config: { src: join(root, 'deploy/config/agent.example.yaml'), dst: '/etc/fleetpass/agent.yaml', mode: 0o600 },
      stateDir: { path: '/var/lib/fleetpass-agent', mode: 0o700 },
      debDepends: 'libc6 (>= 2.28), libstdc++6, passwd, login, systemd',
      rpmRequires: ['glibc >= 2.28', 'libstdc++', 'shadow-utils', 'systemd'],
    },
    controller: {
      name: 'fleetpass-controller',
      summary: 'fleetpass controller: fleet inventory, operations, approvals and the tamper-evident audit',
      service: 'fleetpass-controller.service',
      user: 'fleetpass',
      files: [
        {
          src: join(out, 'fleetpass-controller-linux-x64'),
          dst: '/usr/lib/fleetpass-controller/fleetpass-controller',
          mode: 0o755,
        },
        {
          src: join(root, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'),
          dst: '/usr/lib/fleetpass-controller/better_sqlite3.node',
        },
        { src: join(root, 'dist/web'), dst: '/usr/lib/fleetpass-controller/web', dir: true },
        {
          src: join(root, 'deploy/systemd/fleetpass-controller.service'),
          dst: `${unitDir}/fleetpass-controller.service`,
        },
        {
          src: join(root, 'deploy/packaging/fleetpass-controller.service.d/package.conf'),
          dst: `${unitDir}/fleetpass-controller.service.d/package.conf`,
        },
      ],
      links: [{ dst: '/usr/bin/fleetpass-controller', target: '/usr/lib/fleetpass-controller/fleetpass-controller' }],
      config: {
        src: join(root, 'deploy/config/controller.example.yaml'),
        dst: '/etc/fleetpass/controller.yaml',
        mode: 0o640,
        group: 'fleetpass',
      },
      stateDir: { path: '/var/lib/fleetpass', mode: 0o700, owner: 'fleetpass' },
      debDepends: 'libc6 (>= 2.28), libstdc++6, systemd, passwd',
      rpmRequires: ['glibc >= 2.28', 'libstdc++', 'shadow-utils', 'systemd'],
    },
  };
}

/** The package's tree under `dir`: programs, unit, drop-in, config and the empty state folder. */
function stage(layout, dir) {
  for (const f of layout.files) {
    const dst = join(dir, f.dst);
    mkdirSync(dirname(dst), { recursive: true });
    if (f.dir) cpSync(f.src, dst, { recursive: true });
    else copyFileSync(f.src, dst);
    chmodSync(dst, f.mode ?? (f.dir ? 0o755 : 0o644));
  }
  for (const l of layout.links ?? []) {
    mkdirSync(dirname(join(dir, l.dst)), { recursive: true });
    run('ln', ['-sfn', l.target, join(dir, l.dst)]);
  }
  mkdirSync(join(dir, '/etc/fleetpass'), { recursive: true });
  chmodSync(join(dir, '/etc/fleetpass'), 0o750);
  copyFileSync(layout.config.src, join(dir, layout.config.dst));
  chmodSync(join(dir, layout.config.dst), layout.config.mode);
  mkdirSync(join(dir, layout.stateDir.path), { recursive: true });
  chmodSync(join(dir, layout.stateDir.path), layout.stateDir.mode);
}

/**
 * Maintainer scripts shared by both formats, as POSIX sh bodies. `systemctl` may be absent or systemd not
 * running (a container, an image build): enabling still works offline, the rest is skipped.
 */
function scriptlets(layout) {
  const unit = layout.service;
  const account = layout.user
    ? `if ! getent passwd ${layout.user} >/dev/null; then
  useradd --system --user-group --home-dir ${layout.stateDir.path} --no-create-home --shell /usr/sbin/nologin ${layout.user}
fi
chgrp ${layout.user} ${layout.config.dst} && chmod 0640 ${layout.config.dst}
chown ${layout.user}:${layout.user} ${layout.stateDir.path} && chmod 0700 ${layout.stateDir.path}
`
    : '';
  const running = '[ -d /run/systemd/system ]';
  return {
    // After files are in place, on install and on upgrade.
    installed: `${account}if command -v systemctl >/dev/null; then
  if ${running}; then systemctl daemon-reload || :; fi
  systemctl enable ${unit} >/dev/null 2>&1 || :
fi
`,
    // After an upgrade: restart only what was running, so a node not yet enrolled stays stopped.
    upgraded: `if command -v systemctl >/dev/null && ${running}; then systemctl try-restart ${unit} || :; fi
`,
    // Before the files go away on removal (not on upgrade).
    removing: `if command -v systemctl >/dev/null; then
  systemctl disable ${unit} >/dev/null 2>&1 || :
  if ${running}; then systemctl stop ${unit} || :; fi
fi
`,
    removed: `if command -v systemctl >/dev/null && ${running}; then systemctl daemon-reload || :; fi
`,
  };
}

function debPackage(layout) {
  const dir = join(work, `${layout.name}-deb`);
  rmSync(dir, { recursive: true, force: true });
  stage(layout, dir);
  const s = scriptlets(layout);
  const debian = join(dir, 'DEBIAN');
  mkdirSync(debian, { mode: 0o755 });
  const size = Math.ceil(Number(run('du', ['-sk', '--exclude=DEBIAN', dir]).split('\t')[0]));
  writeFileSync(
    join(debian, 'control'),
    `Package: ${layout.name}
Version: ${opt.version}
Architecture: amd64
Maintainer: fleetpass maintainers <fleetpass@localhost>
Installed-Size: ${size}
Depends: ${layout.debDepends}
Section: admin
Priority: optional
Description: ${layout.summary}
 Single executable with its Node.js runtime inside; systemd unit ${layout.service}.
`,
  );
  writeFileSync(join(debian, 'conffiles'), `${layout.config.dst}\n`);
  const script = (name, body) => {
    writeFileSync(join(debian, name), `#!/bin/sh\nset -e\n${body}`);
    chmodSync(join(debian, name), 0o755);
  };
  script(
    'postinst',
    `if [ "$1" = configure ]; then
${s.installed}  if [ -n "$2" ]; then
${s.upgraded}  fi
fi
`,
  );
  script('prerm', `if [ "$1" = remove ]; then\n${s.removing}fi\n`);
  script(
    'postrm',
    `if [ "$1" = remove ] || [ "$1" = purge ]; then\n${s.removed}fi
# purge: the state (journal, key, certificate, witnessed checkpoint) goes too; plain removal keeps it.
if [ "$1" = purge ]; then
  rm -rf ${layout.stateDir.path}
  rmdir /etc/fleetpass 2>/dev/null || :
fi
`,
  );
  const file = join(out, `${layout.name}_${opt.version}_amd64.deb`);
  run('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z6', '--build', dir, file]);
  rmSync(dir, { recursive: true, force: true });
  return file;
}

function rpmPackage(layout) {
  const top = join(work, `${layout.name}-rpm`);
  const staged = join(top, 'staged');
  rmSync(top, { recursive: true, force: true });
  stage(layout, staged);
  const s = scriptlets(layout);
  const attr = (mode, owner = 'root', group = 'root') =>
    `%attr(${mode.toString(8).padStart(4, '0')},${owner},${group})`;
  const dirs = new Set();
  for (const f of layout.files) {
    if (f.dst.includes('.service.d/')) dirs.add(dirname(f.dst));
    if (f.dst.startsWith('/usr/lib/fleetpass-controller/')) dirs.add('/usr/lib/fleetpass-controller');
    if (f.dst.startsWith('/usr/share/fleetpass-agent/')) dirs.add('/usr/share/fleetpass-agent');
  }
  const files = [
    ...[...dirs].map((d) => `%dir ${d}`),
    ...layout.files.map((f) => (f.dir ? f.dst : `${attr(f.mode ?? 0o644)} ${f.dst}`)),
    ...(layout.links ?? []).map((l) => l.dst),
    `%dir ${attr(0o750)} /etc/fleetpass`,
    `%config(noreplace) ${attr(layout.config.mode, 'root', layout.config.group ?? 'root')} ${layout.config.dst}`,
    `%dir ${attr(layout.stateDir.mode, layout.stateDir.owner ?? 'root', layout.stateDir.owner ?? 'root')} ${layout.stateDir.path}`,
  ];
  const pre = layout.user
    ? `%pre\ngetent group ${layout.user} >/dev/null || groupadd --system ${layout.user}\ngetent passwd ${layout.user} >/dev/null || useradd --system --gid ${layout.user} --home-dir ${layout.stateDir.path} --no-create-home --shell /sbin/nologin ${layout.user}\nexit 0\n`
    : '';
  const spec = `Name: ${layout.name}
Version: ${opt.version}
Release: 1
Summary: ${layout.summary}
License: UNLICENSED
BuildArch: x86_64
AutoReqProv: no
${layout.rpmRequires.map((r) => `Requires: ${r}`).join('\n')}
Requires(post): systemd
Requires(preun): systemd
Requires(postun): systemd

%description
Single executable with its Node.js runtime inside; systemd unit ${layout.service}.

%install
cp -a ${staged}/. %{buildroot}/

%files
${files.join('\n')}

${pre}
%post
${s.installed}
%preun
# $1 is 0 on removal, 1 on upgrade.
if [ "$1" -eq 0 ]; then
${s.removing}fi

%postun
${s.removed}if [ "$1" -ge 1 ]; then
${s.upgraded}fi
`;
  const specFile = join(top, `${layout.name}.spec`);
  writeFileSync(specFile, spec);
  run(
    'rpmbuild',
    [
      '-bb',
      '--quiet',
      '--define',
      `_topdir ${top}`,
      '--define',
      `_rpmdir ${out}`,
      '--define',
      '_rpmfilename %{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm',
      // The executable must not be stripped or post-processed (the program is a section of the binary).
      '--define',
      '__os_install_post %{nil}',
      '--define',
      'debug_package %{nil}',
      '--define',
      '_build_id_links none',
      // gzip: read by every rpm, RHEL 8's included.
      '--define',
      '_binary_payload w6.gzdio',
      specFile,
    ],
    { env: { ...process.env, HOME: top } },
  );
  rmSync(top, { recursive: true, force: true });
  return join(out, `${layout.name}-${opt.version}-1.x86_64.rpm`);
}

function checksums() {
  const lines = readdirSync(out)
    .filter((f) => /\.(deb|rpm)$|-linux-x64$/.test(f))
    .sort()
    .map(
      (f) =>
        `${createHash('sha256')
          .update(readFileSync(join(out, f)))
          .digest('hex')}  ${f}`,
    );
  writeFileSync(join(out, 'SHA256SUMS'), lines.join('\n') + '\n');
}

mkdirSync(out, { recursive: true });
run(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root });
const wanted = opt.only ? [opt.only] : ['agent', 'controller'];
const all = layouts();
const made = [];
for (const what of wanted) {
  const layout = all[what];
  if (!layout) throw new Error(`--only must be agent or controller, not ${what}`);
  const exe = join(out, `${layout.name}-linux-x64`);
  if (formats.has('sea') || !existsSync(exe)) {
    made.push(await sea(layout.name, what === 'agent' ? 'agent/main.ts' : 'controller/main.ts'));
  }
  if (formats.has('deb')) made.push(debPackage(layout));
  if (formats.has('rpm')) made.push(rpmPackage(layout));
}
rmSync(work, { recursive: true, force: true });
checksums();
for (const f of made) console.log(`${f} (${(readFileSync(f).length / 1024 / 1024).toFixed(1)} MiB)`);
