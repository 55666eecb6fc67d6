import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createPamSandbox, sandboxSupported, type PamSandbox } from '.';
import { assertPrivateNamespace, nsExec } from './namespace';
import { faillockConf, pamService } from './pam-files';

describe('PAM files', () => {
  const policy = { deny: 3, unlockTime: 600 as const, failInterval: 900, dir: '/run/faillock' };

  it('writes pam_faillock around pam_unix, with the policy as arguments when asked', () => {
    const withArgs = pamService(policy, true);
    expect(withArgs).toMatch(
      /^auth\s+required\s+pam_faillock\.so preauth silent nodelay deny=3 unlock_time=600 fail_interval=900$/m,
    );
    expect(withArgs).toMatch(/^auth\s+\[success=1 default=bad\]\s+pam_unix\.so nodelay$/m);
    expect(withArgs).toMatch(/^auth\s+\[default=die\]\s+pam_faillock\.so authfail/m);
    expect(withArgs).toMatch(/^auth\s+sufficient\s+pam_faillock\.so authsucc/m);
    expect(pamService(policy, false)).not.toMatch(/deny=/);
  });

  it('writes faillock.conf with the policy', () => {
    expect(faillockConf({ ...policy, unlockTime: 'never' as never, evenDenyRoot: true })).toMatch(
      /dir = \/run\/faillock\ndeny = 3\nfail_interval = 900\nunlock_time = never\neven_deny_root\n$/,
    );
  });
});

describe('the sandbox', () => {
  let sb: PamSandbox;
  beforeAll(async () => {
    sb = await createPamSandbox({ users: [{ name: 'alice', password: 'Alice-pw-1', groups: ['lab'] }] });
  });
  afterAll(() => sb?.destroy());

  it('is supported here (root, Linux, tools, a real probe)', async () => {
    const support = await sandboxSupported({ probe: true });
    expect(support).toEqual({ ok: true, notes: [] });
  });

  it('is created quickly', async () => {
    const started = Date.now();
    const other = await createPamSandbox({ users: [{ name: 'bob', password: 'Bob-pw-2' }] });
    const took = Date.now() - started;
    await other.destroy();
    // About 0.1 s on an idle machine; the bound leaves room for a loaded 2-core CI and still catches a
    // sandbox that copies the host's files or waits on something (suites create dozens of them).
    expect(took).toBeLessThan(5000);
  });

  it('runs commands in its own mount namespace with private /etc, /run/faillock and /var/log', async () => {
    const mounts = (await sb.exec(['cat', '/proc/self/mountinfo'])).stdout;
    expect(mounts).toMatch(/ \/etc .* - overlay /);
    expect(mounts).toMatch(/ \/run .* - overlay /);
    expect(mounts).toMatch(/ \/var\/log .* - overlay /);
    expect(mounts).toMatch(/ \/home .* - overlay /);
    expect(mounts).toMatch(/ \/run\/faillock .* - tmpfs /);
    expect((await sb.exec(['id', '-nG', 'alice'])).stdout.trim().split(' ')).toEqual(['alice', 'lab']);
    expect(existsSync(sb.hostPath('/etc/pam.d/fleetpass-test'))).toBe(true);
    expect(existsSync('/etc/pam.d/fleetpass-test')).toBe(false);
  });

  it('passes stdin, returns exit codes, and honours cwd', async () => {
    expect(await sb.exec(['cat'], { input: 'x' })).toEqual({ stdout: 'x', stderr: '', code: 0 });
    expect((await sb.exec(['sh', '-c', 'exit 7'])).code).toBe(7);
    expect((await sb.exec(['pwd'], { cwd: '/tmp' })).stdout.trim()).toBe('/tmp');
  });

  it('authenticates through real PAM and locks after the configured failures', async () => {
    expect(await sb.authenticate('alice', 'Alice-pw-1')).toBe(true);
    expect(await sb.authenticate('alice', 'nope')).toBe(false);
    await sb.failLogins('alice', 2);
    expect(await sb.authenticate('alice', 'Alice-pw-1')).toBe(false);
    expect((await sb.readFile('/run/faillock/alice')).length).toBe(3 * 64);
    expect((await sb.exec(['faillock', '--user', 'alice', '--reset'])).code).toBe(0);
    expect(await sb.authenticate('alice', 'Alice-pw-1')).toBe(true);
  });

  it('shares its files with spawned long-lived processes, and stops them on destroy', async () => {
    const other = await createPamSandbox();
    const child = other.spawn(['sh', '-c', 'echo ready > /run/faillock/marker; exec sleep 60'], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !existsSync(other.hostPath('/run/faillock/marker')); i++)
      await new Promise((r) => setTimeout(r, 5));
    expect((await other.readFile('/run/faillock/marker')).toString()).toBe('ready\n');
    const exited = new Promise((r) => child.once('exit', r));
    await other.destroy();
    await exited;
    expect(child.signalCode).toBe('SIGTERM');
  });

  it('cleans up its temporary directory and keeper on destroy, and destroy is idempotent', async () => {
    const other = await createPamSandbox();
    const pid = other.pid;
    expect(other.tmpDir.startsWith(tmpdir())).toBe(true);
    expect(readdirSync(other.tmpDir)).toEqual([]); // the layers live in a tmpfs only the sandbox sees
    await other.destroy();
    await other.destroy();
    expect(existsSync(other.tmpDir)).toBe(false);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    await expect(nsExec(pid, ['true'])).rejects.toMatchObject({ code: 'FP_PAM_SANDBOX_UNAVAILABLE' });
  });

  it('refuses to treat a process in the host namespace as a sandbox', async () => {
    expect(() => assertPrivateNamespace(process.pid)).toThrow(/shares the host mount namespace/);
    await expect(nsExec(process.pid, ['true'])).rejects.toMatchObject({ code: 'FP_PAM_SANDBOX_UNAVAILABLE' });
  });

  it('validates names before they reach useradd or pamtester', async () => {
    await expect(sb.addUser({ name: '-rf' })).rejects.toMatchObject({ code: 'FP_ACCOUNT_NAME_INVALID' });
    await expect(sb.authenticate('a;b', 'x')).rejects.toMatchObject({ code: 'FP_ACCOUNT_NAME_INVALID' });
    expect(() => sb.hostPath('etc/shadow')).toThrow(/absolute/);
    expect(() => sb.hostPath('/etc/../root')).toThrow(/\.\./);
  });

  it('refuses paths through symlinks, which /proc/<pid>/root would resolve on the host', async () => {
    // An absolute symlink inside the sandbox: followed through /proc it would land in the HOST's /etc/pam.d.
    expect((await sb.exec(['ln', '-s', '/etc/pam.d', '/etc/escape-link'])).code).toBe(0);
    expect(() => sb.hostPath('/etc/escape-link/fleetpass-test')).toThrow(/symlink/);
    await expect(sb.writeFile('/etc/escape-link/evil', 'x')).rejects.toMatchObject({ code: 'FP_INVALID_ARGUMENT' });
    await expect(sb.readFile('/etc/escape-link/fleetpass-test')).rejects.toMatchObject({ code: 'FP_INVALID_ARGUMENT' });
    expect(existsSync('/etc/pam.d/evil')).toBe(false);
    expect(existsSync(sb.hostPath('/etc/pam.d/fleetpass-test'))).toBe(true);
  });
});
