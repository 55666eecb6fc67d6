/**
 * The first hour of a new user with the demo (issue 22): the printed hints paste into a shell as they are,
 * the demo says when its real locks end and `fleetpass-demo lock` locks an account again with real failed
 * logins, and Ctrl-C to the whole process group stops every child even when the demo's stdout is a pipe
 * whose reader is already gone (`npm start | tee log`).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { DemoStatus } from '../../controller/demo/demo-lock';
import { waitUntil } from '../helpers/wait-until';

const run = promisify(execFile);
const DIST = resolve(__dirname, '../../dist');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** pamtester inside a demo node's sandbox: does PAM let `account` in with `password`? */
function pamAccepts(node: DemoStatus['nodes'][number], account: string, password: string): Promise<boolean> {
  const child = execFile('nsenter', [
    '--target',
    String(node.sandboxPid),
    '--mount',
    'pamtester',
    node.pamService,
    account,
    'authenticate',
  ]);
  child.stdin!.end(`${password}\n`);
  return new Promise<boolean>((res) => child.on('exit', (code) => res(code === 0)));
}

describe('the first hour with the demo', () => {
  let demo: ChildProcess | undefined;
  let output = '';
  let status: DemoStatus;
  const cwd = mkdtempSync(join(tmpdir(), 'fp-first-hour-'));
  const env = {
    ...process.env,
    FLEETPASS_AGENT_LISTEN: '127.0.0.1:0',
    FLEETPASS_ADMIN_LISTEN: '127.0.0.1:0',
    FLEETPASS_WEB_LISTEN: '127.0.0.1:0',
    FLEETPASS_METRICS_LISTEN: '127.0.0.1:0',
    FLEETPASS_CONFIG: '',
    FLEETPASS_CLI_CONFIG: '',
  };
  /** The printed hint lines, as a new user would paste them. */
  const hint = (pattern: RegExp) =>
    output
      .split('\n')
      .map((l) => l.trim())
      .find((l) => pattern.test(l));

  beforeAll(async () => {
    // Its own process group, as a terminal's foreground job: Ctrl-C is a SIGINT to every member.
    demo = spawn(process.execPath, [join(DIST, 'fleetpass-demo.js')], {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stdout!.on('data', (c) => (output += String(c)));
    demo.stderr!.on('data', (c) => (output += String(c)));
    await waitUntil(() => output.includes('Ctrl-C stops'), 60_000, 'the demo to be ready');
    status = JSON.parse(readFileSync(join(cwd, '.fleetpass/demo/status.json'), 'utf8')) as DemoStatus;
  }, 90_000);

  afterAll(() => {
    if (demo?.pid && demo.exitCode === null && demo.signalCode === null) process.kill(-demo.pid, 'SIGKILL');
  });

  it('prints hints that work pasted into a shell as they are (an alias for the bundles)', async () => {
    const alias = hint(/^alias fleetpass=/);
    const exportLine = hint(/^export FLEETPASS_CLI_CONFIG=/);
    expect(alias).toBeDefined();
    expect(exportLine).toBeDefined();
    // Aliases apply from the next line on, and only with expand_aliases outside an interactive shell.
    const script = ['shopt -s expand_aliases', alias, exportLine, 'fleetpass whoami --json', ''].join('\n');
    const { stdout } = await run('bash', ['-c', script], { cwd, env, timeout: 30_000 });
    expect(JSON.parse(stdout)).toMatchObject({ name: 'demo-admin' });
  }, 60_000);

  it('says when each real lock ends, and fleetpass-demo lock locks an account again with real failed logins', async () => {
    // The start summary: each locked account with the end of its lock as the agent reported it, in UTC.
    for (const n of status.nodes) {
      for (const a of n.locked) {
        expect(output).toMatch(
          new RegExp(`${n.id} .*${a} LOCKED by 10 real failed logins until \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ`),
        );
      }
    }
    const target = status.nodes.find((n) => !n.locked.includes('ilmnuser'))!;
    expect(await pamAccepts(target, 'ilmnuser', 'Demo-ilmnuser-2026')).toBe(true);

    const before = Date.now();
    const { stdout } = await run(
      process.execPath,
      [join(DIST, 'fleetpass-demo.js'), 'lock', '--node', target.id, '--account', 'ilmnuser'],
      { cwd, env, timeout: 60_000 },
    );
    const ends = /until (\S+Z)/.exec(stdout)?.[1];
    expect(stdout).toContain(`${target.id}/ilmnuser LOCKED by 10 real failed logins`);
    // pam_faillock's unlock_time (600 s) counts from the last failure, which is after `before`.
    expect(Date.parse(ends!) - before).toBeGreaterThanOrEqual(600_000 - 1000);
    // Locked for real: PAM refuses the right password now.
    expect(await pamAccepts(target, 'ilmnuser', 'Demo-ilmnuser-2026')).toBe(false);

    // And the controller learns it from the agent, as for the locks made at start.
    const cli = (args: string[]) =>
      run(process.execPath, [join(DIST, 'fleetpass.js'), ...args], {
        cwd,
        env: { ...env, FLEETPASS_CLI_CONFIG: status.cliConfig },
        timeout: 30_000,
      });
    await waitUntil(
      async () => {
        const { stdout: json } = await cli(['accounts', '--locked', '--json']);
        const rows = JSON.parse(json) as Array<{ nodeId: string; state: { account: string; locked: boolean } }>;
        return rows.some((r) => r.nodeId === target.id && r.state.account === 'ilmnuser' && r.state.locked);
      },
      60_000,
      'the agent to report the new lock',
      500,
    );

    // Names outside the demo are refused with a code, before any login is tried.
    await expect(
      run(process.execPath, [join(DIST, 'fleetpass-demo.js'), 'lock', '--node', 'nosuch', '--account', 'ilmnuser'], {
        cwd,
        env,
      }),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/FP_INVALID_ARGUMENT.*nextseq-a1/) });
  }, 120_000);

  it('stops every child on Ctrl-C to its process group, even with its stdout reader gone', async () => {
    const pids = [status.demoPid, ...status.nodes.flatMap((n) => [n.agentPid, n.sandboxPid])];
    expect(pids.every((p) => p > 0 && alive(p))).toBe(true);
    // The reader goes away first (tee dies on Ctrl-C): the demo's next write to stdout fails with EPIPE.
    demo!.stdout!.destroy();
    const exited = new Promise<number | null>((res) => demo!.once('exit', (code) => res(code)));
    process.kill(-demo!.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    await waitUntil(() => pids.every((p) => !alive(p)), 30_000, 'every demo process to be gone');
    expect(output).not.toContain('EPIPE');
    // The lock command finds no running demo any more, and says so with a code.
    await expect(
      run(
        process.execPath,
        [join(DIST, 'fleetpass-demo.js'), 'lock', '--node', 'nextseq-a1', '--account', 'ilmnuser'],
        {
          cwd,
          env,
        },
      ),
    ).rejects.toMatchObject({ stderr: expect.stringContaining('FP_DEMO_NOT_RUNNING') });
  }, 60_000);
});
