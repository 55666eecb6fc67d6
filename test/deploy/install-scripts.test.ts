/**
 * deploy/install-agent.sh and deploy/install-controller.sh, run for real into a temporary root (--root) and in
 * --dry-run: the files, owners and modes they produce, that a rerun changes nothing and repairs modes, that the
 * enrollment token never reaches argv or output, that bad input is refused before anything changes, and that
 * shellcheck is clean.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadAgentConfig } from '../../agent/config';
import { loadControllerConfig } from '../../controller/config';
import { prepareAnalyzeRoot, verifyUnits } from './systemd-analyze';

const REPO = resolve(__dirname, '../..');
const INSTALL_AGENT = join(REPO, 'deploy/install-agent.sh');
const INSTALL_CONTROLLER = join(REPO, 'deploy/install-controller.sh');
const AGENT_BUNDLE = join(REPO, 'dist/fleetpass-agent.js');
const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;
const TOKEN = 'fp-enroll-SECRET-7f3a9c';

interface Run {
  code: number | null;
  out: string;
}

function sh(script: string, args: string[], input?: string): Run {
  const r = spawnSync('bash', [script, ...args], {
    input,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, LANG: 'C' },
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

/** A root with just enough of /etc for useradd --root. */
function emptyRoot(): string {
  const root = tempDir('fp-install-root-');
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
  writeFileSync(join(root, 'etc/gshadow'), 'root:*::\n', { mode: 0o640 });
  return root;
}

function mode(p: string): string {
  return (statSync(p).mode & 0o7777).toString(8).padStart(4, '0');
}

function owner(p: string): string {
  const s = statSync(p);
  return `${s.uid}:${s.gid}`;
}

/** Every path under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      out.push(join(d, e.name).slice(dir.length));
      if (e.isDirectory()) walk(join(d, e.name));
    }
  };
  walk(dir);
  return out.sort();
}

function fakeNode(version: string): string {
  const dir = tempDir('fp-fake-node-');
  const node = join(dir, 'node');
  writeFileSync(node, `#!/bin/sh\necho ${version}\n`);
  chmodSync(node, 0o755);
  return node;
}

describe('install-agent.sh', () => {
  const agentArgs = (root: string, extra: string[] = []) => [
    '--root',
    root,
    '--controller',
    'fp.example.org:7443',
    '--ca-fingerprint',
    FINGERPRINT,
    ...extra,
  ];

  it('installs program, config, state, unit and command into --root with the right owners and modes', () => {
    const root = emptyRoot();
    const r = sh(INSTALL_AGENT, agentArgs(root));
    expect(r).toMatchObject({ code: 0 });
    expect(readFileSync(join(root, 'opt/fleetpass/fleetpass-agent.js')).equals(readFileSync(AGENT_BUNDLE))).toBe(true);
    const expected: Record<string, string> = {
      'opt/fleetpass': '0755',
      'opt/fleetpass/fleetpass-agent.js': '0755',
      'etc/fleetpass': '0750',
      'etc/fleetpass/agent.yaml': '0600',
      'var/lib/fleetpass-agent': '0700',
      'etc/systemd/system/fleetpass-agent.service': '0644',
    };
    for (const [p, m] of Object.entries(expected))
      expect({ p, mode: mode(join(root, p)), owner: owner(join(root, p)) }).toEqual({ p, mode: m, owner: '0:0' });
    expect(readlinkSync(join(root, 'usr/local/bin/fleetpass-agent'))).toBe('/opt/fleetpass/fleetpass-agent.js');
    expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/fleetpass-agent.service'))).toBe(
      '/etc/systemd/system/fleetpass-agent.service',
    );
    // The unit runs the node that was found, and is otherwise the shipped one.
    const unit = readFileSync(join(root, 'etc/systemd/system/fleetpass-agent.service'), 'utf8');
    const shipped = readFileSync(join(REPO, 'deploy/systemd/fleetpass-agent.service'), 'utf8');
    const node = spawnSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).stdout.trim();
    expect(unit).toBe(shipped.replace('ExecStart=/usr/bin/node ', `ExecStart=${node} `));
    // The written config is valid and points at the controller given.
    const { config } = loadAgentConfig({ file: join(root, 'etc/fleetpass/agent.yaml'), env: {} });
    expect(config.controller.address).toBe('fp.example.org:7443');
    // Not enrolled and not started: --root installs files only.
    expect(r.out).toContain('not started');
    expect(existsSync(join(root, 'var/lib/fleetpass-agent/node.crt'))).toBe(false);
  });

  it('the installed unit passes systemd-analyze verify in that root', () => {
    const root = emptyRoot();
    expect(sh(INSTALL_AGENT, agentArgs(root)).code).toBe(0);
    prepareAnalyzeRoot(root, { stubBinaries: false });
    const node = spawnSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).stdout.trim();
    mkdirSync(join(root, dirname(node)), { recursive: true });
    writeFileSync(join(root, node), '#!/bin/sh\n', { mode: 0o755 });
    const v = verifyUnits(root, ['fleetpass-agent.service']);
    expect(v.stderr + v.stdout).toBe('');
    expect(v.status).toBe(0);
  });

  it('is idempotent: a rerun keeps the config and the files, and repairs modes', () => {
    const root = emptyRoot();
    expect(sh(INSTALL_AGENT, agentArgs(root)).code).toBe(0);
    const config = join(root, 'etc/fleetpass/agent.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace('platform: linux', 'platform: nextseq-2000'));
    chmodSync(config, 0o644);
    chmodSync(join(root, 'var/lib/fleetpass-agent'), 0o755);
    const bundleTime = statSync(join(root, 'opt/fleetpass/fleetpass-agent.js')).mtimeMs;
    const before = tree(root);

    const r = sh(INSTALL_AGENT, agentArgs(root, ['--controller', 'other.example.org:7443']));
    expect(r.code).toBe(0);
    expect(r.out).toContain('unchanged');
    expect(r.out).toContain('keeping');
    expect(tree(root)).toEqual(before);
    expect(statSync(join(root, 'opt/fleetpass/fleetpass-agent.js')).mtimeMs).toBe(bundleTime);
    expect(readFileSync(config, 'utf8')).toContain('platform: nextseq-2000');
    expect(readFileSync(config, 'utf8')).toContain('fp.example.org:7443');
    expect(mode(config)).toBe('0600');
    expect(mode(join(root, 'var/lib/fleetpass-agent'))).toBe('0700');
  });

  it('--dry-run changes nothing and shows each step', () => {
    const root = emptyRoot();
    const before = tree(root);
    const r = sh(INSTALL_AGENT, agentArgs(root, ['--dry-run']));
    expect(r.code).toBe(0);
    expect(tree(root)).toEqual(before);
    expect(r.out).toContain('dry run: nothing is changed');
    expect(r.out).toMatch(/would run: install -m 0755 .*fleetpass-agent\.js/);
    expect(r.out).toMatch(/would run: systemctl --root=\S+ enable fleetpass-agent\.service/);
  });

  it('hands the token to enroll as a file, never in argv or output (dry run on this host)', () => {
    const tokenFile = join(tempDir('fp-token-'), 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const fromFile = sh(INSTALL_AGENT, [
      '--dry-run',
      '--controller',
      'fp.example.org:7443',
      '--ca-fingerprint',
      FINGERPRINT,
      '--token-file',
      tokenFile,
    ]);
    expect(fromFile.code).toBe(0);
    expect(fromFile.out).toMatch(
      /would run: \S+ \/opt\/fleetpass\/fleetpass-agent\.js enroll --config \/etc\/fleetpass\/agent\.yaml --controller fp\.example\.org:7443 --ca-fingerprint sha256:(ab){32} --token-file \S+token/,
    );
    expect(fromFile.out).not.toContain(TOKEN);
    const fromStdin = sh(
      INSTALL_AGENT,
      ['--dry-run', '--controller', 'fp.example.org:7443', '--ca-fingerprint', FINGERPRINT],
      `${TOKEN}\n`,
    );
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.out).toContain('--token-file \\<stdin\\>');
    expect(fromStdin.out).not.toContain(TOKEN);
  });

  it('refuses a token on the command line, without echoing it', () => {
    for (const args of [['--token', TOKEN], [`--token=${TOKEN}`]]) {
      const r = sh(INSTALL_AGENT, [
        '--dry-run',
        '--controller',
        'fp.example.org:7443',
        '--ca-fingerprint',
        FINGERPRINT,
        ...args,
      ]);
      expect(r.code).toBe(2);
      expect(r.out).toContain('not taken on the command line');
      expect(r.out).not.toContain(TOKEN);
    }
  });

  it.each([
    [['--controller', 'no-port'], /--controller must be HOST:PORT/],
    [['--ca-fingerprint', 'md5:1234'], /--ca-fingerprint must be sha256/],
    [['--prefix', 'relative/dir'], /--prefix must be an absolute path/],
    [['--bogus'], /unknown option --bogus/],
  ])('refuses bad input %j before changing anything', (args, message) => {
    const root = emptyRoot();
    const before = tree(root);
    const r = sh(INSTALL_AGENT, ['--root', root, ...args]);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(message);
    expect(tree(root)).toEqual(before);
  });

  it('refuses a Node older than 24.11', () => {
    const root = emptyRoot();
    const r = sh(INSTALL_AGENT, agentArgs(root, ['--node', fakeNode('20.20.2')]));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/is Node 20\.20\.2; fleetpass needs 24\.11 or newer/);
    expect(existsSync(join(root, 'opt'))).toBe(false);
  });

  it('creates /var/log/tallylog only on a pam_tally2 node, and adds the SSR drop-in with --ssr', () => {
    const tally = emptyRoot();
    mkdirSync(join(tally, 'etc/pam.d'));
    writeFileSync(join(tally, 'etc/pam.d/system-auth'), 'auth required pam_tally2.so deny=5 onerr=fail\n');
    expect(sh(INSTALL_AGENT, agentArgs(tally, ['--ssr'])).code).toBe(0);
    expect(mode(join(tally, 'var/log/tallylog'))).toBe('0600');
    expect(readFileSync(join(tally, 'etc/systemd/system/fleetpass-agent.service.d/ssr.conf'), 'utf8')).toContain(
      'BindReadOnlyPaths=/home/admin/.ssh/pdc_ssh_key',
    );

    const faillock = emptyRoot();
    mkdirSync(join(faillock, 'etc/pam.d'));
    writeFileSync(join(faillock, 'etc/pam.d/system-auth'), 'auth required pam_faillock.so preauth\n');
    expect(sh(INSTALL_AGENT, agentArgs(faillock)).code).toBe(0);
    expect(existsSync(join(faillock, 'var/log/tallylog'))).toBe(false);
    expect(existsSync(join(faillock, 'etc/systemd/system/fleetpass-agent.service.d'))).toBe(false);
  });

  it('--prefix moves the program and the unit follows', () => {
    const root = emptyRoot();
    expect(sh(INSTALL_AGENT, agentArgs(root, ['--prefix', '/srv/fleetpass'])).code).toBe(0);
    expect(existsSync(join(root, 'srv/fleetpass/fleetpass-agent.js'))).toBe(true);
    expect(readFileSync(join(root, 'etc/systemd/system/fleetpass-agent.service'), 'utf8')).toMatch(
      /^ExecStart=\S+ \/srv\/fleetpass\/fleetpass-agent\.js run --config/m,
    );
    expect(readlinkSync(join(root, 'usr/local/bin/fleetpass-agent'))).toBe('/srv/fleetpass/fleetpass-agent.js');
  });
});

describe('install-controller.sh', () => {
  it('creates the fleetpass user and installs program, config, state and unit with the right owners and modes', () => {
    const root = emptyRoot();
    const r = sh(INSTALL_CONTROLLER, ['--root', root, '--skip-deps']);
    expect(r).toMatchObject({ code: 0 });
    const user = readFileSync(join(root, 'etc/passwd'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('fleetpass:'))!
      .split(':');
    const [uid, gid, home, shell] = [user[2], user[3], user[5], user[6]];
    expect(Number(uid)).toBeLessThan(1000);
    expect(home).toBe('/var/lib/fleetpass');
    expect(shell).toMatch(/nologin$/);
    const expected: Record<string, [string, string]> = {
      'opt/fleetpass/dist': ['0755', '0:0'],
      'opt/fleetpass/dist/fleetpass-controller.js': ['0755', '0:0'],
      'opt/fleetpass/dist/fleetpass.js': ['0755', '0:0'],
      'opt/fleetpass/package-lock.json': ['0644', '0:0'],
      'etc/fleetpass': ['0750', `0:${gid}`],
      'etc/fleetpass/controller.yaml': ['0640', `0:${gid}`],
      'var/lib/fleetpass': ['0700', `${uid}:${gid}`],
      'etc/systemd/system/fleetpass-controller.service': ['0644', '0:0'],
    };
    for (const [p, [m, o]] of Object.entries(expected))
      expect({ p, mode: mode(join(root, p)), owner: owner(join(root, p)) }).toEqual({ p, mode: m, owner: o });
    expect(
      readFileSync(join(root, 'opt/fleetpass/dist/fleetpass-controller.js')).equals(
        readFileSync(join(REPO, 'dist/fleetpass-controller.js')),
      ),
    ).toBe(true);
    expect(readlinkSync(join(root, 'usr/local/bin/fleetpass'))).toBe('/opt/fleetpass/dist/fleetpass.js');
    expect(readlinkSync(join(root, 'usr/local/bin/fleetpass-controller'))).toBe(
      '/opt/fleetpass/dist/fleetpass-controller.js',
    );
    expect(
      lstatSync(join(root, 'etc/systemd/system/multi-user.target.wants/fleetpass-controller.service')).isSymbolicLink(),
    ).toBe(true);
    const { config } = loadControllerConfig({ file: join(root, 'etc/fleetpass/controller.yaml'), env: {}, cwd: '/' });
    expect(config.stateDir).toBe('/var/lib/fleetpass');
    expect(r.out).toContain('skipping npm ci');
  });

  it('is idempotent: one user, kept config, unchanged program', () => {
    const root = emptyRoot();
    expect(sh(INSTALL_CONTROLLER, ['--root', root, '--skip-deps']).code).toBe(0);
    writeFileSync(join(root, 'etc/fleetpass/controller.yaml'), 'stateDir: /var/lib/fleetpass\nbackup:\n  keep: 30\n');
    const before = tree(root);
    const r = sh(INSTALL_CONTROLLER, ['--root', root, '--skip-deps']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('user fleetpass exists');
    expect(r.out).toContain('unchanged');
    expect(tree(root)).toEqual(before);
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8').match(/^fleetpass:/gm)).toHaveLength(1);
    expect(readFileSync(join(root, 'etc/fleetpass/controller.yaml'), 'utf8')).toContain('keep: 30');
  });

  it('--dry-run changes nothing, and would run npm ci --omit=dev', () => {
    const root = emptyRoot();
    const before = tree(root);
    const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
    const r = sh(INSTALL_CONTROLLER, ['--root', root, '--dry-run']);
    expect(r.code).toBe(0);
    expect(tree(root)).toEqual(before);
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).toBe(passwd);
    expect(r.out).toMatch(/would run: useradd --root \S+ --system --user-group --home-dir \/var\/lib\/fleetpass/);
    expect(r.out).toMatch(/would run: env --chdir=\S+\/opt\/fleetpass npm ci --omit=dev/);
  });

  it('refuses a source without a build', () => {
    const root = emptyRoot();
    const r = sh(INSTALL_CONTROLLER, ['--root', root, '--skip-deps', '--source', tempDir('fp-nosource-')]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/dist\/fleetpass-controller\.js is missing: run `npm ci && npm run build`/);
    expect(existsSync(join(root, 'opt'))).toBe(false);
  });
});

describe('shell scripts', () => {
  it('pass shellcheck', () => {
    const scripts = [
      'deploy/install-agent.sh',
      'deploy/install-controller.sh',
      'deploy/install-common.sh',
      'test/deploy/fixtures/boot-systemd.sh',
    ];
    const r = spawnSync('shellcheck', ['-x', ...scripts], { cwd: REPO, encoding: 'utf8' });
    if (r.error) throw new Error(`shellcheck is not installed (apt-get install shellcheck): ${r.error.message}`);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
