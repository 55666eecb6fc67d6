/**
 * Boots a real systemd (in its own namespaces, host untouched) and runs the shipped units as they are: the
 * agent's sandbox must let chpasswd, passwd, usermod, chage, faillock and the tally rewrites work on
 * RHEL-like file modes, and must refuse everything else; the controller's must run SQLite with backups as an
 * unprivileged user. Drop-ins then show that each capability kept is needed and that MemoryDenyWriteExecute
 * breaks Node.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeTestPki } from '../../shared/pki';
import { bootSystemdSandbox, copyControllerDepsScript, type SystemdSandbox } from './systemd-sandbox';

const REPO = resolve(__dirname, '../..');
const AGENT_UNIT = readFileSync(resolve(REPO, 'deploy/systemd/fleetpass-agent.service'), 'utf8');
const CONTROLLER_UNIT = readFileSync(resolve(REPO, 'deploy/systemd/fleetpass-controller.service'), 'utf8');
const AGENT_BUNDLE = resolve(REPO, 'dist/fleetpass-agent.js');

type ProbeResults = Record<string, { ok: boolean; code?: string; status?: number; value?: unknown; detail?: string }>;

// Accounts and lockouts as a NextSeq (Oracle Linux 8) has them: /etc/shadow mode 0000 and pam_faillock 1.3
// tally files 0600 owned by the user, so only root with CAP_DAC_OVERRIDE can touch either.
const SETUP = `
set -euo pipefail
useradd -M -d /nonexistent fpprobe
useradd -M -d /nonexistent fpprobe2
echo 'fpprobe:Old-Pass-1' | chpasswd
cat > /etc/pam.d/fleetpass-test <<'PAM'
auth required pam_faillock.so preauth deny=3 nodelay
auth [success=1 default=bad] pam_unix.so nodelay
auth [default=die] pam_faillock.so authfail deny=3 nodelay
auth sufficient pam_faillock.so authsucc
account required pam_unix.so
PAM
mkdir -p /run/faillock
for u in fpprobe fpprobe2; do for i in 1 2 3; do printf 'wrong\\n' | pamtester fleetpass-test $u authenticate >/dev/null 2>&1 || true; done; done
chmod 0000 /etc/shadow /etc/gshadow
chmod 0600 /run/faillock/fpprobe /run/faillock/fpprobe2
dd if=/dev/zero of=/var/log/tallylog bs=64 count=1100 status=none
chmod 0600 /var/log/tallylog
useradd --system --user-group --home-dir /var/lib/fleetpass --no-create-home --shell /usr/sbin/nologin fleetpass
install -d -m 0750 -g fleetpass /etc/fleetpass
install -d -m 0755 /opt/fleetpass/dist
install -m 0644 ${REPO}/test/deploy/fixtures/agent-probe.cjs /opt/fleetpass/fleetpass-agent.js
install -m 0644 ${REPO}/test/deploy/fixtures/controller-probe.cjs /opt/fleetpass/dist/fleetpass-controller.js
${copyControllerDepsScript(REPO)}
echo 'controller: {address: "127.0.0.1:7443"}' > /etc/fleetpass/agent.yaml
chmod 0600 /etc/fleetpass/agent.yaml
echo 'stateDir: /var/lib/fleetpass' > /etc/fleetpass/controller.yaml
chgrp fleetpass /etc/fleetpass/controller.yaml
chmod 0640 /etc/fleetpass/controller.yaml
touch /home/host-user-file
mkdir -p /home/admin/.ssh /home/other
echo conductor-key > /home/admin/.ssh/pdc_ssh_key
chmod 0600 /home/admin/.ssh/pdc_ssh_key
touch /home/other/private
# A process of another user, for the busyCheck-style pgrep.
setpriv --reuid fpprobe --regid fpprobe --clear-groups sleep 3600 &
`;

let sandbox: SystemdSandbox;

beforeAll(async () => {
  sandbox = await bootSystemdSandbox(
    { 'fleetpass-agent.service': AGENT_UNIT, 'fleetpass-controller.service': CONTROLLER_UNIT },
    SETUP,
    // The units run /usr/bin/node as shipped: inside the sandbox that is the project's runtime (systemd-sandbox.ts).
  );
}, 90_000);

afterAll(async () => {
  await sandbox?.shutdown();
});

function readProbe(file: string): ProbeResults {
  return JSON.parse(readFileSync(sandbox.path(file), 'utf8')) as ProbeResults;
}

function clearAgentState(): void {
  for (const f of ['probe-result.json', 'probe-error.txt', 'journal.probe', 'suid.probe']) {
    rmSync(sandbox.path(`/var/lib/fleetpass-agent/${f}`), { force: true });
  }
}

function shadowHash(user: string): string {
  const line = readFileSync(sandbox.path('/etc/shadow'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  return line!.split(':')[1];
}

describe('fleetpass-agent.service under systemd', () => {
  it('changes accounts and clears lockouts on RHEL-like file modes, and nothing else', async () => {
    const hashBefore = shadowHash('fpprobe');
    const outcome = await sandbox.runToCompletion('fleetpass-agent.service');
    expect(outcome).toMatchObject({ result: 'success', execMainStatus: '0' });
    const r = readProbe('/var/lib/fleetpass-agent/probe-result.json');

    // Root, but only CAP_CHOWN, CAP_DAC_OVERRIDE and CAP_AUDIT_WRITE; no new privileges; seccomp on.
    expect(r.process.value).toMatchObject({
      uid: 0,
      capBnd: '0000000020000003',
      capEff: '0000000020000003',
      noNewPrivs: '1',
      seccomp: '2',
      umask: 0o077,
    });
    expect(r.jit.ok).toBe(true);
    for (const op of [
      'chpasswd',
      'shadowChanged',
      'passwdLock',
      'passwdUnlock',
      'usermodUnlock',
      'chageExpiry',
      'chageList',
      'faillockShow',
      'faillockReset',
      'faillockTruncate',
      'tallylogRewrite',
      'tcpLoopback',
      'pgrep',
    ]) {
      expect({ op, ...r[op] }).toMatchObject({ op, ok: true });
    }
    // The changes are real, seen from outside the service.
    expect(shadowHash('fpprobe')).not.toBe(hashBefore);
    expect(readFileSync(sandbox.path('/run/faillock/fpprobe')).length).toBe(0);
    expect(readFileSync(sandbox.path('/run/faillock/fpprobe2')).length).toBe(0);
    sandbox.exec(['pamtester', 'fleetpass-test', 'fpprobe', 'authenticate'], 'Probe-New-Pass-1\n');
    // State is private: UMask=0077 and StateDirectoryMode=0700.
    expect(r.stateWrite.value).toBe('600');
    expect(r.stateDirMode.value).toBe('700');

    // Refused: the rest of the file system, PAM and its own config, home directories, setuid files,
    // kernel knobs, devices, namespaces, mounts, host name and clock.
    for (const op of ['writeUsr', 'writePamD', 'writeOwnConfig', 'writeSystemd'])
      expect({ op, code: r[op].code }).toEqual({ op, code: 'EROFS' });
    expect(r.readHome.value ?? []).toEqual([]);
    expect(r.setuidFile).toMatchObject({ ok: false, code: 'EPERM' });
    expect(r.kernelTunable.ok).toBe(false);
    expect(r.devices.value).toEqual([]);
    for (const op of ['unshareUser', 'mountTmpfs', 'setHostname', 'setClock'])
      expect({ op, ok: r[op].ok }).toEqual({ op, ok: false });
  });

  it('with the SSR drop-in reads the conductor key, read-only, and no other home directory', async () => {
    expect(readProbe('/var/lib/fleetpass-agent/probe-result.json').readSsrKey.ok).toBe(false);
    clearAgentState();
    sandbox.dropIn(
      'fleetpass-agent.service',
      'ssr',
      readFileSync(resolve(REPO, 'deploy/systemd/fleetpass-agent-ssr.conf'), 'utf8'),
    );
    try {
      const outcome = await sandbox.runToCompletion('fleetpass-agent.service');
      expect(outcome.result).toBe('success');
      const r = readProbe('/var/lib/fleetpass-agent/probe-result.json');
      expect(r.readSsrKey).toMatchObject({ ok: true, value: 'conductor-key' });
      expect(r.writeSsrKey).toMatchObject({ ok: false, code: 'EROFS' });
      expect(r.readOtherHome).toMatchObject({ ok: false, code: 'ENOENT' });
      expect(r.chpasswd.ok).toBe(true);
    } finally {
      sandbox.removeDropIn('fleetpass-agent.service', 'ssr');
    }
  });

  it('needs CAP_DAC_OVERRIDE: without it /etc/shadow (0000) and user-owned tally files are out of reach', async () => {
    clearAgentState();
    // faillock --reset from pam >= 1.4 re-modes a tally file it opens to 0660 user:root; put back the 0600 of pam 1.3.
    sandbox.exec(['chmod', '0600', '/run/faillock/fpprobe', '/run/faillock/fpprobe2']);
    sandbox.dropIn(
      'fleetpass-agent.service',
      'caps',
      '[Service]\nCapabilityBoundingSet=\nCapabilityBoundingSet=CAP_CHOWN CAP_AUDIT_WRITE\n',
    );
    try {
      const outcome = await sandbox.runToCompletion('fleetpass-agent.service');
      expect(outcome.result).toBe('success');
      const r = readProbe('/var/lib/fleetpass-agent/probe-result.json');
      expect(r.chpasswd.ok).toBe(false);
      expect(r.faillockReset.ok).toBe(false);
      expect(r.faillockTruncate).toMatchObject({ ok: false, code: 'EACCES' });
    } finally {
      sandbox.removeDropIn('fleetpass-agent.service', 'caps');
    }
  });

  it('needs CAP_CHOWN: without it every rewrite of /etc/shadow fails', async () => {
    clearAgentState();
    sandbox.dropIn(
      'fleetpass-agent.service',
      'caps',
      '[Service]\nCapabilityBoundingSet=\nCapabilityBoundingSet=CAP_DAC_OVERRIDE CAP_AUDIT_WRITE\n',
    );
    try {
      await sandbox.runToCompletion('fleetpass-agent.service');
      const r = readProbe('/var/lib/fleetpass-agent/probe-result.json');
      for (const op of ['chpasswd', 'passwdLock', 'chageExpiry'])
        expect({ op, ok: r[op].ok }).toEqual({ op, ok: false });
      // Reading and clearing tallies needs no chown.
      expect(r.faillockReset.ok).toBe(true);
    } finally {
      sandbox.removeDropIn('fleetpass-agent.service', 'caps');
    }
  });

  it('must not set MemoryDenyWriteExecute: Node aborts in its JIT', async () => {
    clearAgentState();
    sandbox.dropIn('fleetpass-agent.service', 'mdwe', '[Service]\nMemoryDenyWriteExecute=yes\n');
    try {
      const outcome = await sandbox.runToCompletion('fleetpass-agent.service');
      expect(outcome.result).not.toBe('success');
      expect(outcome.output).toMatch(/Fatal error|Check failed|SetPermissions/);
      expect(existsSync(sandbox.path('/var/lib/fleetpass-agent/probe-result.json'))).toBe(false);
    } finally {
      sandbox.removeDropIn('fleetpass-agent.service', 'mdwe');
    }
  });

  it('runs the real agent bundle: it starts, keeps retrying an absent controller, and drains on stop', async () => {
    if (!existsSync(AGENT_BUNDLE)) throw new Error(`${AGENT_BUNDLE} is missing: run \`npm run build\` first`);
    const pki = await writeTestPki(sandbox.path('/var/lib/fleetpass-agent/pki'), ['node-systemd-1']);
    const inside = (p: string) => p.slice(sandbox.path('').length);
    writeFileSync(sandbox.path('/opt/fleetpass/fleetpass-agent.js'), readFileSync(AGENT_BUNDLE));
    mkdirSync(sandbox.path('/etc/fleetpass'), { recursive: true });
    writeFileSync(
      sandbox.path('/etc/fleetpass/agent.yaml'),
      [
        `controller: {address: "127.0.0.1:1", caFile: "${inside(pki.caFile)}", certFile: "${inside(pki.nodes['node-systemd-1'].certFile)}", keyFile: "${inside(pki.nodes['node-systemd-1'].keyFile)}"}`,
        'stateDir: /var/lib/fleetpass-agent',
        'reconnect: {initialMs: 100, maxMs: 200}',
        'policy: {accounts: [{backend: linux, account: fpprobe, actions: [unlock, reset_password, refresh_state]}]}',
      ].join('\n'),
    );
    sandbox.exec(['systemctl', 'start', 'fleetpass-agent.service']);
    const deadline = Date.now() + 20_000;
    let out = '';
    while (Date.now() < deadline && !/"to":"backoff"/.test(out)) {
      await new Promise((r) => setTimeout(r, 200));
      out = existsSync(sandbox.path('/run/fleetpass-test/fleetpass-agent.service.out'))
        ? readFileSync(sandbox.path('/run/fleetpass-test/fleetpass-agent.service.out'), 'utf8')
        : '';
    }
    expect(out).toMatch(/"to":"backoff"/);
    sandbox.exec(['systemctl', 'stop', 'fleetpass-agent.service']);
    const state = sandbox.exec(['systemctl', 'show', 'fleetpass-agent.service', '-p', 'Result,ExecMainStatus']);
    expect(state).toContain('Result=success');
    expect(state).toContain('ExecMainStatus=0');
    expect(readFileSync(sandbox.path('/run/fleetpass-test/fleetpass-agent.service.out'), 'utf8')).toMatch(
      /agent stopped/,
    );
  });
});

describe('fleetpass-controller.service under systemd', () => {
  it('runs SQLite with online backups as the fleetpass user, with no privilege and a private view', async () => {
    const outcome = await sandbox.runToCompletion('fleetpass-controller.service');
    expect(outcome).toMatchObject({ result: 'success', execMainStatus: '0' });
    const r = readProbe('/var/lib/fleetpass/probe-result.json');
    const uid = Number(sandbox.exec(['id', '-u', 'fleetpass']).trim());
    expect(r.process.value).toMatchObject({
      uid,
      capBnd: '0000000000000000',
      capEff: '0000000000000000',
      noNewPrivs: '1',
      seccomp: '2',
      umask: 0o077,
      cwd: '/var/lib/fleetpass',
    });
    expect(r.jit.ok).toBe(true);
    expect(r.sqlite).toMatchObject({ ok: true, value: '600' });
    expect(r.sqliteBackup).toMatchObject({ ok: true, value: { rows: 1, fileMode: '600', dirMode: '700' } });
    expect(r.stateDirMode.value).toBe('700');
    expect(r.readConfig.ok).toBe(true);
    expect(r.listenHighPort.ok).toBe(true);

    expect(r.listenPort443).toMatchObject({ ok: false, code: 'EACCES' });
    expect(r.writeConfig.ok).toBe(false);
    expect(r.writeCode).toMatchObject({ ok: false, code: 'EROFS' });
    expect(r.writeUsr).toMatchObject({ ok: false, code: 'EROFS' });
    expect(r.readShadow).toMatchObject({ ok: false, code: 'EACCES' });
    expect(r.readHome.ok).toBe(false);
    // ProtectProc=invisible: other users' processes (systemd itself) are hidden.
    expect(r.seePid1.value).toBe(false);
    expect(r.setuidFile).toMatchObject({ ok: false, code: 'EPERM' });
  });
});
