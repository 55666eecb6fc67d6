/**
 * TEST ONLY: boots a real systemd as PID 1 of its own PID and mount namespace (fixtures/boot-systemd.sh), with
 * the host's /etc under an overlay and /run, /var/lib, /var/log, /opt, /home, /tmp on throwaway mounts, so the
 * units from deploy/systemd run with their real sandbox against real accounts without touching the host.
 * systemd reads units only from the sandbox's own directory; it gets its own cgroup subtree, removed at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const BOOT_SCRIPT = resolve(__dirname, 'fixtures/boot-systemd.sh');
/** The checkout under test; the sandbox keeps it visible wherever it lies (CI may clone into /tmp). */
const REPO_ROOT = resolve(__dirname, '../..');
/**
 * The project's Node runtime, bound over /usr/bin/node inside the sandbox: the units' ExecStart=/usr/bin/node
 * then runs it as shipped, and a checkout under /tmp (hidden by the units' PrivateTmp) does not matter.
 */
const RUNTIME = realpathSync(process.execPath);
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Shell lines that copy the controller's one native dependency (better-sqlite3 and what loads it) from this
 * checkout into /opt/fleetpass/node_modules. A copy, not a link: a unit with PrivateTmp/ProtectHome cannot
 * see a checkout that lies under /tmp or /home.
 */
export function copyControllerDepsScript(repo: string = REPO_ROOT): string {
  const nm = `${repo}/node_modules`;
  return [
    'mkdir -p /opt/fleetpass/node_modules/better-sqlite3/build/Release',
    `cp -a ${nm}/bindings ${nm}/file-uri-to-path /opt/fleetpass/node_modules/`,
    `cp -a ${nm}/better-sqlite3/package.json ${nm}/better-sqlite3/lib /opt/fleetpass/node_modules/better-sqlite3/`,
    `cp ${nm}/better-sqlite3/build/Release/better_sqlite3.node /opt/fleetpass/node_modules/better-sqlite3/build/Release/`,
  ].join('\n');
}
const SYSTEMD = '/lib/systemd/systemd';

/** Empty stand-ins for the targets the units order against; nothing from the host is pulled in. */
const STUB_TARGETS = ['sysinit', 'basic', 'network-online', 'multi-user', 'shutdown'];

export interface ServiceOutcome {
  activeState: string;
  subState: string;
  result: string;
  execMainCode: string;
  execMainStatus: string;
  /** What the service wrote to stdout and stderr (sent to a file by a test drop-in). */
  output: string;
}

export interface SystemdSandbox {
  /** Host path of a path inside the sandbox (through /proc/<pid>/root). */
  path(p: string): string;
  /** Runs a command inside the sandbox's namespaces (e.g. systemctl); throws on a non-zero exit. */
  exec(argv: string[], input?: string): string;
  /** Adds (or replaces) a drop-in for `unit` and reloads systemd. */
  dropIn(unit: string, name: string, content: string): void;
  removeDropIn(unit: string, name: string): void;
  /** Starts `unit` and waits until its main process has ended (or systemd schedules a restart). */
  runToCompletion(unit: string, timeoutMs?: number): Promise<ServiceOutcome>;
  shutdown(): Promise<void>;
}

/** Why this machine cannot boot the sandbox, or undefined when it can. */
export function systemdSandboxProblem(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync(SYSTEMD)) return `${SYSTEMD} is missing (apt-get install systemd)`;
  for (const tool of ['unshare', 'nsenter', 'pamtester', 'useradd']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is missing`;
  }
  return undefined;
}

/** rmdir of a cgroup and its children, deepest first; a busy one stays and is retried by the caller. */
function removeCgroupTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroupTree(join(dir, entry.name));
  }
  try {
    rmdirSync(dir);
  } catch {
    // still busy
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Boots systemd with `units` (file name → content) after running `setup` (bash, inside the namespaces). */
export async function bootSystemdSandbox(units: Record<string, string>, setup: string): Promise<SystemdSandbox> {
  const problem = systemdSandboxProblem();
  if (problem) throw new Error(`cannot boot systemd for the unit tests: ${problem}`);
  const work = mkdtempSync(join(tmpdir(), 'fp-systemd-'));
  const unitDir = join(work, 'units');
  mkdirSync(unitDir);
  for (const t of STUB_TARGETS) writeFileSync(join(unitDir, `${t}.target`), `[Unit]\nDescription=${t} (test stub)\n`);
  writeFileSync(join(unitDir, 'fleetpass-test.target'), '[Unit]\nDescription=fleetpass unit tests\n');
  for (const [name, content] of Object.entries(units)) {
    writeFileSync(join(unitDir, name), content);
    // The test reads what the service printed; there is no journald in the sandbox.
    mkdirSync(join(unitDir, `${name}.d`));
    writeFileSync(
      join(unitDir, `${name}.d`, 'test-output.conf'),
      `[Service]\nStandardOutput=append:/run/fleetpass-test/${name}.out\nStandardError=append:/run/fleetpass-test/${name}.out\n`,
    );
  }
  writeFileSync(join(work, 'setup.sh'), setup);
  const cgroup = `fleetpass-test-${process.pid}-${Date.now()}`;
  const bootLog: string[] = [];
  const child: ChildProcess = spawn(
    'unshare',
    ['--pid', '--fork', '--mount', '--propagation', 'private', BOOT_SCRIPT, work, cgroup, REPO_ROOT, RUNTIME],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d: Buffer) => bootLog.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => bootLog.push(d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));

  let pid1 = 0;
  const exec = (argv: string[], input?: string): string => {
    const r = spawnSync('nsenter', ['-t', String(pid1), '-m', '-p', '--', ...argv], {
      input,
      // The system's PATH, as on a node: `node` is /usr/bin/node, the runtime (not node_modules/.bin).
      env: { ...process.env, PATH: SYSTEM_PATH },
      encoding: 'utf8',
      timeout: 30000,
    });
    if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  };

  const shutdown = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGKILL to the namespace's init ends every process in it; the services were already stopped.
      if (pid1) spawnSync('kill', ['-KILL', String(pid1)]);
      child.kill('SIGKILL');
      await exited;
    }
    for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
      const [, mnt, type] = line.split(' ');
      if (type !== 'cgroup' && type !== 'cgroup2') continue;
      // Empty cgroups are removed bottom-up; a dying process can hold one for a moment.
      for (let i = 0; i < 50 && existsSync(join(mnt, cgroup)); i++) {
        removeCgroupTree(join(mnt, cgroup));
        if (existsSync(join(mnt, cgroup))) await sleep(100);
      }
    }
    rmSync(work, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + 60000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the sandbox exited during boot: ${bootLog.join('')}`);
      if (!pid1) {
        const children = existsSync(`/proc/${child.pid}/task/${child.pid}/children`)
          ? readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim()
          : '';
        pid1 = Number(children.split(' ')[0]) || 0;
      }
      if (pid1 && readFileSync(`/proc/${pid1}/comm`, 'utf8').trim() === 'systemd') {
        const r = spawnSync('nsenter', ['-t', String(pid1), '-m', '-p', '--', 'systemctl', 'is-system-running'], {
          encoding: 'utf8',
        });
        if (['running', 'degraded'].includes(r.stdout.trim())) break;
      }
      if (Date.now() > deadline) throw new Error(`systemd did not finish booting: ${bootLog.join('')}`);
      await sleep(100);
    }
  } catch (e) {
    await shutdown();
    throw e;
  }

  const show = (unit: string): ServiceOutcome => {
    const fields = Object.fromEntries(
      exec(['systemctl', 'show', unit, '-p', 'ActiveState,SubState,Result,ExecMainCode,ExecMainStatus'])
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const outFile = join(work, `${unit}.out`);
    return {
      activeState: fields.ActiveState,
      subState: fields.SubState,
      result: fields.Result,
      execMainCode: fields.ExecMainCode,
      execMainStatus: fields.ExecMainStatus,
      output: existsSync(outFile) ? readFileSync(outFile, 'utf8') : '',
    };
  };

  return {
    path: (p) => `/proc/${pid1}/root${p}`,
    exec,
    dropIn(unit, name, content) {
      writeFileSync(join(unitDir, `${unit}.d`, `${name}.conf`), content);
      exec(['systemctl', 'daemon-reload']);
    },
    removeDropIn(unit, name) {
      rmSync(join(unitDir, `${unit}.d`, `${name}.conf`), { force: true });
      exec(['systemctl', 'daemon-reload']);
    },
    async runToCompletion(unit, timeoutMs = 30000) {
      rmSync(join(work, `${unit}.out`), { force: true });
      // A unit that never ran is "not loaded" and has nothing to reset.
      spawnSync('nsenter', ['-t', String(pid1), '-m', '-p', '--', 'systemctl', 'reset-failed', unit]);
      exec(['systemctl', 'start', unit]);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = show(unit);
        if (s.activeState === 'inactive' || s.activeState === 'failed' || s.subState === 'auto-restart') {
          // A crashing unit would be restarted again and again: stop it so the next run starts clean.
          exec(['systemctl', 'stop', unit]);
          return s;
        }
        if (Date.now() > deadline) {
          exec(['systemctl', 'stop', unit]);
          throw new Error(`${unit} still ${s.activeState}/${s.subState} after ${timeoutMs} ms: ${s.output}`);
        }
        await sleep(100);
      }
    },
    shutdown,
  };
}
