/**
 * The install scripts for real, on a (namespaced) machine with a real systemd: install-controller.sh and
 * install-agent.sh install, enable and start the real bundles under the shipped units; the agent connects to
 * the controller over mutual TLS on loopback and reports a lockout it reads through its sandbox (mode-0000
 * /etc/shadow, a 0600 tally file); a rerun changes nothing and does not restart anything; both stop cleanly;
 * a token piped to install-agent.sh reaches enroll only as a private file, never in argv or output.
 * Until `fleetpass-agent enroll` exists the node certificate is issued here from the controller's own CA,
 * which is what enrollment will produce.
 */
import { createServer } from 'node:net';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { certificateFingerprint, issueClientCertificate } from '../../shared/pki';
import { bootSystemdSandbox, copyControllerDepsScript, type SystemdSandbox } from './systemd-sandbox';
import { waitUntil } from '../helpers/wait-until';

const REPO = resolve(__dirname, '../..');
const NODE_ID = 'nextseq-installed-1';
const TOKEN = 'fp-enroll-SECRET-d41c07';

const SETUP = `
set -euo pipefail
useradd -M -d /nonexistent fpprobe
useradd -M -d /nonexistent fpprobe2
echo 'fpprobe:Old-Pass-1' | chpasswd
echo 'fpprobe2:Old-Pass-2' | chpasswd
# The node's sshd login service (the example config judges the login services that are present).
cat > /etc/pam.d/sshd <<'PAM'
auth required pam_faillock.so preauth deny=3 nodelay
auth [success=1 default=bad] pam_unix.so nodelay
auth [default=die] pam_faillock.so authfail deny=3 nodelay
auth sufficient pam_faillock.so authsucc
account required pam_unix.so
PAM
mkdir -p /run/faillock
for i in 1 2 3; do printf 'wrong\\n' | pamtester sshd fpprobe authenticate >/dev/null 2>&1 || true; done
chmod 0000 /etc/shadow /etc/gshadow
chmod 0600 /run/faillock/fpprobe
`;

let sandbox: SystemdSandbox;
let agentPort: number;

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/** What the unit printed (a test drop-in sends it to a file: the sandbox has no journald). */
function output(unit: string): string {
  const p = sandbox.path(`/run/fleetpass-test/${unit}.out`);
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}

function captureOutput(unit: string): void {
  const dir = sandbox.path(`/etc/systemd/system/${unit}.d`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    `${dir}/test-output.conf`,
    `[Service]\nStandardOutput=append:/run/fleetpass-test/${unit}.out\nStandardError=append:/run/fleetpass-test/${unit}.out\n`,
  );
  sandbox.exec(['systemctl', 'daemon-reload']);
}

/** Reads the controller's live database from inside the sandbox (SQLite resolves /proc/<pid>/root away). */
function query(sql: string, ...params: string[]): Record<string, unknown>[] {
  const script = `const D = require(${JSON.stringify(`${REPO}/node_modules/better-sqlite3`)}); const db = new D('/var/lib/fleetpass/fleetpass.db', { readonly: true, fileMustExist: true }); process.stdout.write(JSON.stringify(db.prepare(process.argv[1]).all(...process.argv.slice(2))));`;
  return JSON.parse(sandbox.exec([process.execPath, '-e', script, sql, ...params])) as Record<string, unknown>[];
}

function show(unit: string, prop: string): string {
  return sandbox.exec(['systemctl', 'show', unit, '-p', prop, '--value']).trim();
}

function statusOf(unit: string): { uid: string; capEff: string } {
  const status = sandbox.exec(['cat', `/proc/${show(unit, 'MainPID')}/status`]);
  return { uid: /^Uid:\s+(\d+)/m.exec(status)![1], capEff: /^CapEff:\s+(\S+)/m.exec(status)![1] };
}

beforeAll(async () => {
  sandbox = await bootSystemdSandbox({}, SETUP);
  agentPort = await freePort();
}, 60_000);

afterAll(async () => {
  await sandbox?.shutdown();
});

describe('installed with the scripts, under systemd', () => {
  it('install-controller.sh: the controller starts as fleetpass, creates its CA and prints the fingerprint to pin', async () => {
    sandbox.exec(['bash', `${REPO}/deploy/install-controller.sh`, '--skip-deps', '--no-start']);
    // --skip-deps: the production dependencies come from this checkout instead of the network.
    sandbox.exec(['bash', '-c', copyControllerDepsScript(REPO)]);
    const config = sandbox.path('/etc/fleetpass/controller.yaml');
    const [adminPort, webPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
    writeFileSync(
      config,
      readFileSync(config, 'utf8')
        .replace('agentListen: "0.0.0.0:7443"', `agentListen: "127.0.0.1:${agentPort}"`)
        .replace('adminListen: "0.0.0.0:7444"', `adminListen: "127.0.0.1:${adminPort}"`)
        .replace('webListen: "0.0.0.0:8443"', `webListen: "127.0.0.1:${webPort}"`)
        .replace('metricsListen: "127.0.0.1:9464"', `metricsListen: "127.0.0.1:${metricsPort}"`),
    );
    captureOutput('fleetpass-controller.service');
    sandbox.exec(['systemctl', 'start', 'fleetpass-controller.service']);

    const fingerprint = await waitUntil(
      () => /CA fingerprint:\s+(\S+)/.exec(output('fleetpass-controller.service'))?.[1],
      20_000,
      'the controller to print its CA fingerprint',
    );
    expect(show('fleetpass-controller.service', 'ActiveState')).toBe('active');
    const uid = sandbox.exec(['id', '-u', 'fleetpass']).trim();
    expect(statusOf('fleetpass-controller.service')).toEqual({ uid, capEff: '0000000000000000' });
    expect(fingerprint).toBe(
      certificateFingerprint(readFileSync(sandbox.path('/var/lib/fleetpass/pki/ca.crt'), 'utf8')),
    );
    for (const f of ['pki/ca.key', 'secrets.key', 'fleetpass.db']) {
      const st = sandbox.exec(['stat', '-c', '%a %U', `/var/lib/fleetpass/${f}`]).trim();
      expect({ f, st }).toEqual({ f, st: '600 fleetpass' });
    }
  });

  it('install-agent.sh: the agent connects over mutual TLS and reports the lockout it reads through its sandbox', async () => {
    // What `fleetpass-agent enroll` leaves in the state directory: the pinned CA, the node key and certificate.
    const ca = {
      certPem: readFileSync(sandbox.path('/var/lib/fleetpass/pki/ca.crt'), 'utf8'),
      keyPem: readFileSync(sandbox.path('/var/lib/fleetpass/pki/ca.key'), 'utf8'),
    };
    const node = await issueClientCertificate(ca, { commonName: NODE_ID });
    const state = sandbox.path('/var/lib/fleetpass-agent');
    mkdirSync(state, { recursive: true, mode: 0o700 });
    writeFileSync(`${state}/ca.crt`, ca.certPem);
    writeFileSync(`${state}/node.crt`, node.certPem);
    writeFileSync(`${state}/node.key`, node.keyPem, { mode: 0o600 });
    chmodSync(`${state}/node.key`, 0o600);

    const out = sandbox.exec([
      'bash',
      `${REPO}/deploy/install-agent.sh`,
      '--no-enroll',
      '--no-start',
      '--controller',
      `127.0.0.1:${agentPort}`,
    ]);
    expect(out).toContain('writing');
    const config = sandbox.path('/etc/fleetpass/agent.yaml');
    writeFileSync(
      config,
      readFileSync(config, 'utf8')
        .replace('account: ilmnadmin', 'account: fpprobe')
        .replace('account: ilmnuser', 'account: fpprobe2'),
    );
    captureOutput('fleetpass-agent.service');
    sandbox.exec(['systemctl', 'start', 'fleetpass-agent.service']);

    await waitUntil(() => /"to":"connected"/.test(output('fleetpass-agent.service')), 20_000, 'the agent to connect');
    expect(statusOf('fleetpass-agent.service')).toEqual({ uid: '0', capEff: '0000000020000003' });
    const accounts = await waitUntil(
      () => {
        const rows = query('SELECT account, locked FROM account_state WHERE node_id = ? ORDER BY account', NODE_ID);
        return rows.length === 2 ? rows : undefined;
      },
      20_000,
      'the agent to report its accounts',
    );
    expect(accounts).toEqual([
      { account: 'fpprobe', locked: 1 },
      { account: 'fpprobe2', locked: 0 },
    ]);
    expect(query('SELECT online FROM nodes WHERE id = ?', NODE_ID)).toEqual([{ online: 1 }]);
  });

  it('a rerun of both scripts changes nothing and restarts nothing', () => {
    const pids = ['fleetpass-controller.service', 'fleetpass-agent.service'].map((u) => show(u, 'MainPID'));
    const controllerRun = sandbox.exec(['bash', `${REPO}/deploy/install-controller.sh`, '--skip-deps']);
    const agentRun = sandbox.exec(['bash', `${REPO}/deploy/install-agent.sh`, '--no-enroll']);
    for (const out of [controllerRun, agentRun]) {
      expect(out).not.toMatch(/installing|writing|creating/);
      expect(out).toContain('unchanged');
    }
    expect(['fleetpass-controller.service', 'fleetpass-agent.service'].map((u) => show(u, 'MainPID'))).toEqual(pids);
  });

  it('both stop cleanly: the agent drains, the controller exits 0', () => {
    sandbox.exec(['systemctl', 'stop', 'fleetpass-agent.service', 'fleetpass-controller.service']);
    for (const unit of ['fleetpass-agent.service', 'fleetpass-controller.service']) {
      expect({ unit, result: show(unit, 'Result'), status: show(unit, 'ExecMainStatus') }).toEqual({
        unit,
        result: 'success',
        status: '0',
      });
    }
    expect(output('fleetpass-agent.service')).toMatch(/agent stopped/);
  });

  it('enrolls with the token from stdin handed over as a private file, never in argv, and removed after', () => {
    // A fresh node: no certificate yet. The stand-in agent records how enroll was called.
    sandbox.exec(['rm', '-f', '/var/lib/fleetpass-agent/node.crt', '/var/lib/fleetpass-agent/node.key']);
    const fake = sandbox.path('/run/fleetpass-test/fake-agent.js');
    writeFileSync(
      fake,
      `#!/usr/bin/env node
const fs = require('node:fs');
const argv = process.argv.slice(2);
const tokenFile = argv[argv.indexOf('--token-file') + 1];
const st = fs.statSync(tokenFile);
const dir = fs.statSync(require('node:path').dirname(tokenFile));
fs.writeFileSync('/var/lib/fleetpass-agent/enroll-record.json', JSON.stringify({
  argv, tokenFile, token: fs.readFileSync(tokenFile, 'utf8').trim(), fileMode: (st.mode & 0o777).toString(8), dirMode: (dir.mode & 0o777).toString(8),
}));
`,
    );
    const out = sandbox.exec(
      [
        'bash',
        `${REPO}/deploy/install-agent.sh`,
        '--agent',
        '/run/fleetpass-test/fake-agent.js',
        '--prefix',
        '/opt/fleetpass-enroll-test',
        '--no-start',
        '--controller',
        `127.0.0.1:${agentPort}`,
        '--ca-fingerprint',
        `sha256:${'ab'.repeat(32)}`,
      ],
      `${TOKEN}\n`,
    );
    expect(out).not.toContain(TOKEN);
    const record = JSON.parse(readFileSync(sandbox.path('/var/lib/fleetpass-agent/enroll-record.json'), 'utf8')) as {
      argv: string[];
      tokenFile: string;
      token: string;
      fileMode: string;
      dirMode: string;
    };
    expect(record.token).toBe(TOKEN);
    expect(record.argv.join(' ')).not.toContain(TOKEN);
    expect(record.argv.slice(0, 7)).toEqual([
      'enroll',
      '--config',
      '/etc/fleetpass/agent.yaml',
      '--controller',
      `127.0.0.1:${agentPort}`,
      '--ca-fingerprint',
      `sha256:${'ab'.repeat(32)}`,
    ]);
    expect({ fileMode: record.fileMode, dirMode: record.dirMode }).toEqual({ fileMode: '600', dirMode: '700' });
    expect(existsSync(sandbox.path(record.tokenFile))).toBe(false);
  });
});
