/**
 * `npm run package` for the agent, built once for this file: the single executable runs with no node on PATH;
 * the .rpm's header, file list, modes, config file and scriptlets, and an `rpm --root` install into a temporary
 * root; the .deb's control data, conffile, maintainer scripts and file modes; the SHA-256 checksums.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
// A PATH with nothing on it: no node (the machine's own /usr/bin/node included), no shell.
const BARE_PATH = { PATH: '/nonexistent' };

let out: string;
const exe = () => join(out, 'fleetpass-agent-linux-x64');
const rpmFile = () => join(out, `fleetpass-agent-${VERSION}-1.x86_64.rpm`);
const debFile = () => join(out, `fleetpass-agent_${VERSION}_amd64.deb`);

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'fp-packages-'));
  run(process.execPath, [join(REPO, 'scripts/package.mjs'), '--only', 'agent', '--out', out]);
}, 900_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('the agent as a single executable', () => {
  it('runs with no node on PATH and carries the runtime it was built with', () => {
    expect((spawnSync('node', ['--version'], { env: BARE_PATH }).error as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(run(exe(), ['--version'], BARE_PATH).trim()).toBe(VERSION);
    expect(run(exe(), ['--help'], BARE_PATH)).toContain('enroll');
    // Refuses a config it cannot read, with the agent's own error (the program, not the bare runtime, runs).
    const r = spawnSync(exe(), ['check-config', '--config', '/nonexistent/agent.yaml'], {
      encoding: 'utf8',
      env: BARE_PATH,
    });
    expect(r.status).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/FP_/);
    // Needs nothing newer than glibc 2.28 (RHEL/Oracle Linux 8).
    const versions = run('objdump', ['-T', exe()]).match(/GLIBC_2\.\d+/g) ?? [];
    const minors = versions.map((v) => Number(v.split('.')[1]));
    expect(Math.max(...minors)).toBeLessThanOrEqual(28);
  });
});

describe('the .rpm', () => {
  it('has the header, files, modes, config file and scriptlets', () => {
    const info = run('rpm', ['-qip', rpmFile()]);
    expect(info).toMatch(/^Name\s*: fleetpass-agent$/m);
    expect(info).toMatch(new RegExp(`^Version\\s*: ${VERSION.replace(/\./g, '\\.')}$`, 'm'));
    expect(info).toMatch(/^Architecture: x86_64$/m);
    const list = run('rpm', ['-qlp', '--dump', rpmFile()]);
    const mode = (path: string) => {
      const line = list.split('\n').find((l) => l.startsWith(`${path} `));
      expect(line).toBeDefined();
      return (Number.parseInt(line!.split(' ')[4], 8) & 0o7777).toString(8);
    };
    expect(mode('/usr/bin/fleetpass-agent')).toBe('755');
    expect(mode('/etc/fleetpass/agent.yaml')).toBe('600');
    expect(mode('/etc/fleetpass')).toBe('750');
    expect(mode('/var/lib/fleetpass-agent')).toBe('700');
    expect(mode('/usr/lib/systemd/system/fleetpass-agent.service')).toBe('644');
    expect(run('rpm', ['-qpc', rpmFile()]).trim()).toBe('/etc/fleetpass/agent.yaml');
    // noreplace: an edited config is kept on upgrade (the new one lands as .rpmnew).
    expect(run('rpm', ['-qp', '--qf', '[%{FILENAMES} %{FILEFLAGS:fflags}\n]', rpmFile()])).toMatch(
      /^\/etc\/fleetpass\/agent\.yaml cn$/m,
    );
    const scripts = run('rpm', ['-qp', '--scripts', rpmFile()]);
    expect(scripts).toMatch(/postinstall scriptlet[\s\S]*systemctl enable fleetpass-agent\.service/);
    expect(scripts).not.toMatch(/systemctl (re)?start/);
    expect(scripts).toMatch(/preuninstall scriptlet[\s\S]*if \[ "\$1" -eq 0 \][\s\S]*systemctl stop fleetpass-agent/);
    expect(scripts).toMatch(/postuninstall scriptlet[\s\S]*-ge 1[\s\S]*try-restart fleetpass-agent\.service/);
    expect(scripts).not.toMatch(/rm -rf/);
  });

  it('installs into a temporary root with its files, modes and the unchanged unit', () => {
    const root = mkdtempSync(join(tmpdir(), 'fp-rpmroot-'));
    try {
      // An empty root has no shell or systemctl to run the scriptlets in: they are checked above.
      run('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '-i', '--nodeps', '--noscripts', rpmFile()]);
      const m = (p: string) => (statSync(join(root, p)).mode & 0o7777).toString(8);
      expect(m('usr/bin/fleetpass-agent')).toBe('755');
      expect(m('etc/fleetpass/agent.yaml')).toBe('600');
      expect(m('var/lib/fleetpass-agent')).toBe('700');
      expect(readFileSync(join(root, 'usr/lib/systemd/system/fleetpass-agent.service'), 'utf8')).toBe(
        readFileSync(join(REPO, 'deploy/systemd/fleetpass-agent.service'), 'utf8'),
      );
      const dropIn = readFileSync(join(root, 'usr/lib/systemd/system/fleetpass-agent.service.d/package.conf'), 'utf8');
      expect(dropIn).toMatch(/^ExecStart=$/m);
      expect(dropIn).toMatch(/^ExecStart=\/usr\/bin\/fleetpass-agent run --config \/etc\/fleetpass\/agent\.yaml$/m);
      expect(dropIn).toMatch(/^ConditionPathExists=\/var\/lib\/fleetpass-agent\/node\.crt$/m);
      expect(readFileSync(join(root, 'usr/bin/fleetpass-agent')).equals(readFileSync(exe()))).toBe(true);
      expect(run('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '-q', 'fleetpass-agent']).trim()).toBe(
        `fleetpass-agent-${VERSION}-1.x86_64`,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('the .deb', () => {
  it('has the control data, the conffile, the maintainer scripts and the file modes', () => {
    const control = run('dpkg-deb', ['-f', debFile()]);
    expect(control).toMatch(/^Package: fleetpass-agent$/m);
    expect(control).toMatch(new RegExp(`^Version: ${VERSION.replace(/\./g, '\\.')}$`, 'm'));
    expect(control).toMatch(/^Architecture: amd64$/m);
    expect(control).toMatch(/^Depends: libc6 \(>= 2\.28\)/m);
    const ctl = mkdtempSync(join(tmpdir(), 'fp-debctl-'));
    try {
      run('dpkg-deb', ['-e', debFile(), ctl]);
      expect(readFileSync(join(ctl, 'conffiles'), 'utf8')).toBe('/etc/fleetpass/agent.yaml\n');
      const postinst = readFileSync(join(ctl, 'postinst'), 'utf8');
      expect(postinst).toContain('systemctl enable fleetpass-agent.service');
      expect(postinst).not.toMatch(/systemctl (re)?start/);
      expect(readFileSync(join(ctl, 'prerm'), 'utf8')).toMatch(/"\$1" = remove[\s\S]*systemctl stop fleetpass-agent/);
      const postrm = readFileSync(join(ctl, 'postrm'), 'utf8');
      expect(postrm).toMatch(/"\$1" = purge[\s\S]*rm -rf \/var\/lib\/fleetpass-agent/);
    } finally {
      rmSync(ctl, { recursive: true, force: true });
    }
    const contents = run('dpkg-deb', ['-c', debFile()]);
    expect(contents).toMatch(/^-rwxr-xr-x root\/root .* \.\/usr\/bin\/fleetpass-agent$/m);
    expect(contents).toMatch(/^-rw------- root\/root .* \.\/etc\/fleetpass\/agent\.yaml$/m);
    expect(contents).toMatch(/^drwx------ root\/root .* \.\/var\/lib\/fleetpass-agent\/$/m);
    expect(contents).toMatch(/\.\/usr\/lib\/systemd\/system\/fleetpass-agent\.service$/m);
  });

  it('comes with SHA-256 checksums of every artefact', () => {
    const sums = readFileSync(join(out, 'SHA256SUMS'), 'utf8').trim().split('\n');
    const names = sums.map((l) => l.split('  ')[1]).sort();
    expect(names).toEqual(
      [
        `fleetpass-agent-${VERSION}-1.x86_64.rpm`,
        'fleetpass-agent-linux-x64',
        `fleetpass-agent_${VERSION}_amd64.deb`,
      ].sort(),
    );
    for (const line of sums) {
      const [hash, name] = line.split('  ');
      expect(
        createHash('sha256')
          .update(readFileSync(join(out, name)))
          .digest('hex'),
      ).toBe(hash);
    }
  });
});
