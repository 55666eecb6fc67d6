/**
 * The README's first command, exercised: the demo starts a controller and a sandboxed fleet, the CLI
 * shows the locked accounts, a reset through the CLI succeeds, pamtester confirms the new password
 * inside the node's sandbox, and Ctrl-C stops everything cleanly.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { waitUntil } from '../helpers/wait-until';

const run = promisify(execFile);
const DIST = resolve(__dirname, '../../dist');

interface Status {
  cliConfig: string;
  nodes: Array<{ id: string; sandboxPid: number; pamService: string; locked: string[] }>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('first run (npm start)', () => {
  let demo: ChildProcess | undefined;
  let output = '';
  const cwd = mkdtempSync(join(tmpdir(), 'fp-first-run-'));

  afterAll(() => {
    if (demo && demo.exitCode === null) demo.kill('SIGKILL');
  });

  it('starts, shows real lockouts, resets through the CLI, and stops cleanly on Ctrl-C', async () => {
    demo = spawn(process.execPath, [join(DIST, 'fleetpass-demo.js')], {
      cwd,
      env: {
        ...process.env,
        FLEETPASS_AGENT_LISTEN: '127.0.0.1:0',
        FLEETPASS_ADMIN_LISTEN: '127.0.0.1:0',
        FLEETPASS_WEB_LISTEN: '127.0.0.1:0',
        FLEETPASS_METRICS_LISTEN: '127.0.0.1:0',
        FLEETPASS_CONFIG: '',
        FLEETPASS_CLI_CONFIG: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stdout!.on('data', (c) => (output += String(c)));
    demo.stderr!.on('data', (c) => (output += String(c)));
    await waitUntil(
      () => (output.includes('Ctrl-C stops') ? true : undefined),
      45_000,
      `the demo to be ready; output so far:\n${output}`,
    );
    const status = JSON.parse(readFileSync(join(cwd, '.fleetpass/demo/status.json'), 'utf8')) as Status;
    expect(status.nodes.length).toBeGreaterThanOrEqual(2);
    const env = { ...process.env, FLEETPASS_CLI_CONFIG: status.cliConfig, FLEETPASS_CONFIG: '' };
    const cli = (args: string[]) =>
      run(process.execPath, [join(DIST, 'fleetpass.js'), ...args], { cwd, env, timeout: 30_000 });

    // The demo's real failed logins show as locked accounts through the CLI.
    const { stdout: lockedJson } = await cli(['accounts', '--locked', '--json']);
    const locked = JSON.parse(lockedJson) as Array<{
      nodeId: string;
      state: { account: string; locked: boolean; failureCount: number };
    }>;
    const expected = status.nodes.flatMap((n) => n.locked.map((a) => `${n.id}/${a}`)).sort();
    expect(locked.map((a) => `${a.nodeId}/${a.state.account}`).sort()).toEqual(expected);
    expect(locked.every((a) => a.state.locked && a.state.failureCount >= 10)).toBe(true);

    // Metrics are on in the demo: the locked-accounts gauge says what the CLI says, and the controller is ready.
    const metricsUrl = /metrics:\s+(http:\/\/\S+)\/metrics/.exec(output)?.[1];
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const exposition = await (await fetch(`${metricsUrl}/metrics`)).text();
    const lockedGauge = [...exposition.matchAll(/^fleetpass_locked_accounts\{[^}]*\} (\d+)$/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    expect(lockedGauge).toBe(expected.length);
    expect((await fetch(`${metricsUrl}/readyz`)).status).toBe(200);

    // Reset the first locked non-privileged account through the CLI; pamtester accepts only the new password.
    const target = status.nodes.find((n) => n.locked.includes('ilmnuser'))!;
    const { stdout: resetJson } = await cli([
      'reset',
      '--node',
      target.id,
      '--account',
      'ilmnuser',
      '--generate',
      '--reason',
      'first-run test',
      '--yes',
      '--json',
    ]);
    const reset = JSON.parse(resetJson) as { generatedPasswords: Array<{ nodeId: string; password: string }> };
    const password = reset.generatedPasswords.find((g) => g.nodeId === target.id)!.password;
    expect(password.length).toBeGreaterThanOrEqual(12);
    const auth = (pw: string) => {
      const child = execFile('nsenter', [
        '--target',
        String(target.sandboxPid),
        '--mount',
        'pamtester',
        target.pamService,
        'ilmnuser',
        'authenticate',
      ]);
      child.stdin!.end(`${pw}\n`);
      return new Promise<boolean>((res) => child.on('exit', (code) => res(code === 0)));
    };
    expect(await auth(password)).toBe(true);
    expect(await auth('Demo-ilmnuser-2026')).toBe(false);
    await expect(cli(['audit', 'verify'])).resolves.toMatchObject({ stdout: expect.stringContaining('ok') });

    // Ctrl-C: everything stops, the sandboxes are gone.
    const exited = new Promise<number | null>((res) => demo!.once('exit', (code) => res(code)));
    demo.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('stopped cleanly');
    for (const n of status.nodes) expect(alive(n.sandboxPid)).toBe(false);
    expect(existsSync(join(cwd, '.fleetpass/fleetpass.db'))).toBe(true);
    // Logs name nodes, operators and addresses: the owner's only.
    expect(statSync(join(cwd, '.fleetpass/demo/controller.log')).mode & 0o777).toBe(0o600);
    for (const n of status.nodes) {
      expect(statSync(join(cwd, '.fleetpass/demo', n.id, 'agent.log')).mode & 0o777).toBe(0o600);
    }
  }, 120_000);
});
