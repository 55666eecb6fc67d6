/**
 * A real-PAM sandbox: a private mount namespace with overlayfs over /etc, /run, /var/log, /home and the
 * mail spool (so useradd, chpasswd, passwd and pam_faillock write only to a tmpfs) and a fresh tmpfs on
 * /run/faillock. Any number
 * of processes (agent, pamtester, useradd) share one sandbox; any number of sandboxes exist side by side.
 * The host's accounts and PAM files never change.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FleetpassError } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { assertAccountName } from '../validation/account-name';
import {
  assertPrivateNamespace,
  nsExec,
  nsExecOk,
  nsSpawn,
  startKeeper,
  type ExecOptions,
  type ExecResult,
  type Keeper,
} from './namespace';
import { faillockConf, pamService, type FaillockPolicy } from './pam-files';

export interface SandboxUser {
  readonly name: string;
  /** Set with chpasswd on stdin; without one the account has a locked, empty password ("!"). */
  readonly password?: string;
  readonly uid?: number;
  /** Supplementary groups; each is created in the sandbox when missing. */
  readonly groups?: readonly string[];
}

export interface PamSandboxOptions {
  readonly users?: readonly SandboxUser[];
  /** pam_faillock policy (defaults: deny 3, unlock_time 600, fail_interval 900). */
  readonly deny?: number;
  readonly unlockTime?: number | 'never';
  readonly failInterval?: number;
  readonly rootUnlockTime?: number | 'never';
  readonly evenDenyRoot?: boolean;
  /** The PAM service pamtester uses (default fleetpass-test). */
  readonly service?: string;
  /** Also write the policy as pam_faillock arguments in the service file (default true). */
  readonly argsInService?: boolean;
  /** Where the host-side temporary directory is made (default os.tmpdir()). */
  readonly tmpRoot?: string;
  readonly log?: Logger;
}

export interface AuthOptions {
  /** The PAM service to log in through (default: the sandbox's own service). */
  readonly service?: string;
  /** Sets PAM_RHOST, so the failure is recorded with that source. */
  readonly rhost?: string;
  readonly tty?: string;
}

export interface PamSandbox {
  /** The keeper's pid: `nsenter --target <pid> --mount` enters the sandbox. */
  readonly pid: number;
  readonly service: string;
  readonly policy: FaillockPolicy;
  readonly faillockDir: string;
  readonly tallylogPath: string;
  /** The host-side temporary directory (empty on the host; a tmpfs holding the overlay layers inside). */
  readonly tmpDir: string;
  /** Runs a command inside; resolves with its exit code (non-zero is not an error). */
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Starts a long-lived process inside (e.g. the agent); destroy() stops it if it is still running. */
  spawn(argv: readonly string[], options?: SpawnOptions): ChildProcess;
  /** The host path through which this process reads and writes `path` as the sandbox sees it (symlinks refused). */
  hostPath(path: string): string;
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, data: string | Buffer, mode?: number): Promise<void>;
  addUser(user: SandboxUser): Promise<void>;
  setPassword(user: string, password: string): Promise<void>;
  /**
   * Replaces the sandbox's PAM configuration with an image's: /etc/pam.d and /etc/authselect are
   * emptied, then `<root>/etc/.` is copied over /etc with its symlinks kept (`cp -a`), so absolute links
   * such as /etc/pam.d/system-auth -> /etc/authselect/system-auth resolve inside the sandbox.
   */
  layPamTree(root: string): Promise<void>;
  /** `pamtester <service> <user> authenticate` with the password on stdin: true when PAM accepts it. */
  authenticate(user: string, password: string, options?: AuthOptions): Promise<boolean>;
  /** `n` logins with a wrong password; throws if one of them is accepted. */
  failLogins(user: string, n: number, options?: AuthOptions): Promise<void>;
  /** The user's /etc/shadow line inside the sandbox, or undefined. */
  shadowLine(user: string): Promise<string | undefined>;
  /** Stops spawned processes and the keeper and removes the temporary directory. Idempotent. */
  destroy(): Promise<void>;
}

/**
 * Directories the sandbox overlays: accounts and PAM (/etc), counters (/run, /var/log) and what useradd
 * may create on some distributions (homes, mail spools). /etc, /run and /var/log must exist.
 */
const PRIVATE_DIRS = ['/etc', '/run', '/var/log', '/home', '/var/mail', '/var/spool/mail'];

/** A directory that is not a symlink (a symlinked spool is covered by overlaying its target). */
function isRealDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Live sandboxes, so a process that exits without destroy() (a crash, process.exit) still stops the
 * processes it spawned inside and removes its temporary directories.
 */
const live = new Set<{ keeper: Keeper; tmp: string; children: Set<ChildProcess> }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const s of live) {
      for (const c of s.children) c.kill('SIGKILL');
      s.keeper.child.kill('SIGKILL');
      rmSync(s.tmp, { recursive: true, force: true });
    }
  });
}

/**
 * `/proc/<pid>/root<path>`: the sandbox's view of `path`, for this process's own file calls. The kernel
 * resolves an absolute symlink met on that walk against OUR root (the host), so every existing component
 * must be a real file or directory; a symlink (e.g. /var/run) is refused rather than followed to the host.
 */
export function sandboxHostPath(pid: number, path: string): string {
  if (!path.startsWith('/')) throw new FleetpassError('FP_INVALID_ARGUMENT', `sandbox paths are absolute: "${path}"`);
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..'))
    throw new FleetpassError('FP_INVALID_ARGUMENT', `sandbox paths may not contain "..": "${path}"`);
  let prefix = '';
  for (const part of parts) {
    prefix += `/${part}`;
    let isLink: boolean;
    try {
      isLink = lstatSync(`/proc/${pid}/root${prefix}`).isSymbolicLink();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') break; // the rest does not exist yet
      throw e;
    }
    if (isLink) {
      throw new FleetpassError(
        'FP_INVALID_ARGUMENT',
        `"${prefix}" is a symlink in the sandbox; name the real path (e.g. /run, not /var/run)`,
      );
    }
  }
  return `/proc/${pid}/root/${parts.join('/')}`;
}

/** Overlays `target` with a writable layer kept in the sandbox's tmpfs. */
async function overlay(
  pid: number,
  hostPath: (p: string) => string,
  tmp: string,
  name: string,
  target: string,
): Promise<void> {
  const upper = join(tmp, name, 'upper');
  const work = join(tmp, name, 'work');
  await mkdir(hostPath(upper), { recursive: true });
  await mkdir(hostPath(work), { recursive: true });
  await nsExecOk(pid, [
    'mount',
    '-t',
    'overlay',
    'overlay',
    '-o',
    `lowerdir=${target},upperdir=${upper},workdir=${work}`,
    target,
  ]);
}

/** One real login through pamtester inside the namespace of `pid`: true when PAM accepts the password. */
async function authenticateIn(
  pid: number,
  service: string,
  user: string,
  password: string,
  auth: AuthOptions = {},
): Promise<boolean> {
  assertAccountName(user);
  const items: string[] = [];
  if (auth.rhost) items.push('-I', `rhost=${auth.rhost}`);
  if (auth.tty) items.push('-I', `tty=${auth.tty}`);
  const svc = auth.service ?? service;
  if (!/^[A-Za-z0-9._-]+$/.test(svc))
    throw new FleetpassError('FP_INVALID_ARGUMENT', `"${svc}" is not a PAM service name`);
  const r = await nsExec(pid, ['pamtester', ...items, svc, user, 'authenticate'], { input: `${password}\n` });
  if (r.code === 0) return true;
  if (r.code === 1) return false;
  throw new FleetpassError('FP_COMMAND_FAILED', `pamtester failed in the sandbox (exit code ${r.code})`, {
    details: { command: 'pamtester', exitCode: r.code },
  });
}

/**
 * `n` real failed logins (a random wrong password) through pamtester inside the sandbox whose keeper is
 * `pid`, e.g. from another process than the one that created it (the demo's `lock` command).
 */
export async function failLoginsIn(
  pid: number,
  service: string,
  user: string,
  n: number,
  auth?: AuthOptions,
): Promise<void> {
  const wrong = `wrong-${randomBytes(9).toString('base64url')}`;
  for (let i = 0; i < n; i++) {
    if (await authenticateIn(pid, service, user, wrong, auth))
      throw new FleetpassError('FP_INTERNAL', `a wrong password was accepted for ${user}`);
  }
}

/** Creates a sandbox, writes its PAM files and users; throws FP_PAM_SANDBOX_UNAVAILABLE when it cannot. */
export async function createPamSandbox(options: PamSandboxOptions = {}): Promise<PamSandbox> {
  if (process.platform !== 'linux')
    throw new FleetpassError('FP_PAM_SANDBOX_UNAVAILABLE', 'the PAM sandbox needs Linux');
  if (process.getuid?.() !== 0)
    throw new FleetpassError(
      'FP_PAM_SANDBOX_UNAVAILABLE',
      'the PAM sandbox needs root (mount namespaces and overlayfs)',
    );
  const log = (options.log ?? silentLogger()).child({ component: 'pam-sandbox' });
  const service = options.service ?? 'fleetpass-test';
  if (!/^[A-Za-z0-9._-]+$/.test(service))
    throw new FleetpassError('FP_INVALID_ARGUMENT', `"${service}" is not a PAM service name`);
  const policy: FaillockPolicy = {
    deny: options.deny ?? 3,
    unlockTime: options.unlockTime ?? 600,
    failInterval: options.failInterval ?? 900,
    rootUnlockTime: options.rootUnlockTime,
    evenDenyRoot: options.evenDenyRoot,
    dir: '/run/faillock',
  };

  // The real path, so no symlink on the way to the overlay layers (see sandboxHostPath).
  const tmp = realpathSync(mkdtempSync(join(options.tmpRoot ?? tmpdir(), 'fleetpass-pam-')));
  let keeper: Keeper;
  try {
    keeper = await startKeeper();
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const children = new Set<ChildProcess>();
  const entry = { keeper, tmp, children };
  live.add(entry);
  installExitHook();
  const pid = keeper.pid;
  const hostPath = (p: string): string => sandboxHostPath(pid, p);
  let destroyed = false;

  const destroy = async (): Promise<void> => {
    if (destroyed) return;
    destroyed = true;
    await Promise.all([...children].map((c) => stopChild(c)));
    await stopChild(keeper.child);
    live.delete(entry);
    rmSync(tmp, { recursive: true, force: true });
    log.debug({ pid }, 'sandbox destroyed');
  };

  try {
    // Everything the sandbox writes lives in this tmpfs, visible only inside; the host sees an empty directory.
    await nsExecOk(pid, ['mount', '-t', 'tmpfs', '-o', 'mode=0700', 'fleetpass-sandbox', tmp]);
    for (const dir of PRIVATE_DIRS) {
      if (isRealDirectory(dir)) await overlay(pid, hostPath, tmp, dir.slice(1).replace(/\//g, '_'), dir);
    }
    await mkdir(hostPath(policy.dir), { recursive: true });
    await nsExecOk(pid, ['mount', '-t', 'tmpfs', '-o', 'mode=0755', 'fleetpass-faillock', policy.dir]);
    await writeFile(hostPath('/var/log/tallylog'), Buffer.alloc(0), { mode: 0o600 });
    await mkdir(hostPath('/etc/security'), { recursive: true });
    await writeFile(hostPath('/etc/security/faillock.conf'), faillockConf(policy), { mode: 0o644 });
    await writeFile(hostPath(`/etc/pam.d/${service}`), pamService(policy, options.argsInService ?? true), {
      mode: 0o644,
    });
  } catch (e) {
    await destroy();
    throw e instanceof FleetpassError
      ? e
      : new FleetpassError('FP_PAM_SANDBOX_UNAVAILABLE', `the sandbox could not be set up: ${(e as Error).message}`, {
          cause: e,
        });
  }

  const setPassword = async (user: string, password: string): Promise<void> => {
    assertAccountName(user);
    if (/[\r\n\0]/.test(password) || password.length === 0)
      throw new FleetpassError('FP_PASSWORD_POLICY', 'the password is empty or has a line break');
    await nsExecOk(pid, ['chpasswd'], { input: `${user}:${password}\n` });
  };

  const addUser = async (user: SandboxUser): Promise<void> => {
    assertAccountName(user.name);
    for (const g of user.groups ?? []) {
      assertAccountName(g);
      const r = await nsExec(pid, ['getent', 'group', g]);
      if (r.code !== 0) await nsExecOk(pid, ['groupadd', '--', g]);
    }
    const args = ['useradd', '--no-create-home', '--shell', '/bin/sh'];
    if (user.uid !== undefined) args.push('--uid', String(user.uid));
    if (user.groups?.length) args.push('--groups', user.groups.join(','));
    await nsExecOk(pid, [...args, '--', user.name]);
    if (user.password !== undefined) await setPassword(user.name, user.password);
  };

  const authenticate = (user: string, password: string, auth: AuthOptions = {}): Promise<boolean> =>
    authenticateIn(pid, service, user, password, auth);

  try {
    for (const user of options.users ?? []) await addUser(user);
  } catch (e) {
    await destroy();
    throw e;
  }
  log.debug({ pid, service, users: (options.users ?? []).map((u) => u.name) }, 'sandbox ready');

  return {
    pid,
    service,
    policy,
    faillockDir: policy.dir,
    tallylogPath: '/var/log/tallylog',
    tmpDir: tmp,
    exec: (argv, execOptions) => nsExec(pid, argv, execOptions),
    spawn: (argv, spawnOptions) => {
      const child = nsSpawn(pid, argv, spawnOptions);
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    hostPath,
    readFile: async (path) => {
      assertPrivateNamespace(pid);
      return readFile(hostPath(path));
    },
    writeFile: async (path, data, mode) => {
      assertPrivateNamespace(pid);
      await mkdir(dirname(hostPath(path)), { recursive: true });
      await writeFile(hostPath(path), data, mode !== undefined ? { mode } : {});
    },
    addUser,
    setPassword,
    layPamTree: async (root) => {
      if (!root.startsWith('/'))
        throw new FleetpassError('FP_INVALID_ARGUMENT', `the PAM tree must be an absolute path: "${root}"`);
      await nsExecOk(pid, ['rm', '-rf', '--', '/etc/pam.d', '/etc/authselect']);
      await nsExecOk(pid, ['cp', '-a', '--', `${root}/etc/.`, '/etc/']);
    },
    authenticate,
    failLogins: (user, n, auth) => failLoginsIn(pid, service, user, n, auth),
    shadowLine: async (user) => {
      assertPrivateNamespace(pid);
      const text = await readFile(hostPath('/etc/shadow'), 'utf8');
      return text.split('\n').find((l) => l.startsWith(`${user}:`));
    },
    destroy,
  };
}

/** SIGTERM, then SIGKILL after two seconds; resolves when the process has exited. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}
