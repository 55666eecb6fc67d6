/**
 * TEST ONLY: runs the REAL agent bundle (`node dist/fleetpass-agent.js`, built by `npm run build`) as a
 * child process. A harness owns a temp dir with test PKI (shared/pki) for its node ids, writes agent
 * configs there as YAML, spawns `run` (with helpers to wait for log lines, SIGTERM, SIGKILL and exit) and
 * runs one-shot commands (`accounts`, `check-config`, ...) capturing stdout, stderr and the exit code.
 * Process-level tests use a real backend (LRM simulator, or Linux inside the PAM sandbox); the
 * in-memory test backend cannot cross a process boundary.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { writeTestPki, type TestPkiFiles } from '../../shared/pki';

export const AGENT_BUNDLE = resolve(__dirname, '../../dist/fleetpass-agent.js');

/** Starts argv[0] with argv[1..]; the default is a plain child process, a PAM sandbox passes its own `spawn`. */
export type Spawner = (argv: readonly string[], options: SpawnOptions) => ChildProcess;
const plainSpawn: Spawner = (argv, options) => spawn(argv[0], argv.slice(1), options);

export interface SpawnOptionsForAgent {
  env?: NodeJS.ProcessEnv;
  /** e.g. `(argv, o) => sandbox.spawn(argv, o)` to run the agent inside a PAM sandbox. */
  spawner?: Spawner;
}

export interface SpawnedAgent {
  readonly process: ChildProcess;
  /** Every stdout JSON log line parsed so far (non-JSON lines are skipped). */
  logs(): Record<string, unknown>[];
  stdout(): string;
  stderr(): string;
  /** Resolves with the first log line (already seen or future) matching `pred`. */
  waitForLog(pred: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves when the process has exited. */
  waitForExit(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  sigterm(): void;
  /** SIGKILL: a crash, no drain. */
  kill(): void;
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface AgentHarness {
  readonly dir: string;
  readonly pki: TestPkiFiles;
  readonly nodeId: string;
  /** Writes a config (YAML) with `controller` TLS files, a stateDir and fast reconnects filled in; returns its path. */
  writeConfig(config: Record<string, unknown>, name?: string): string;
  /** Spawns `fleetpass-agent run --config <file>`. */
  spawnRun(configFile: string, options?: SpawnOptionsForAgent): SpawnedAgent;
  /** Runs a one-shot command to completion. */
  run(args: string[], options?: SpawnOptionsForAgent & { timeoutMs?: number }): Promise<CommandResult>;
  /** Kills every process it started and removes its temp dir. */
  cleanup(): Promise<void>;
}

/** Creates a harness with test PKI for `nodeId`; throws when the bundle has not been built. */
export async function createAgentHarness(
  options: { nodeId?: string; controllerAddress?: string } = {},
): Promise<AgentHarness> {
  if (!existsSync(AGENT_BUNDLE))
    throw new Error(`${AGENT_BUNDLE} is missing: run \`npm run build\` before the agent process tests`);
  const nodeId = options.nodeId ?? 'node-test-1';
  const dir = mkdtempSync(join(tmpdir(), 'fp-agent-harness-'));
  const pki = await writeTestPki(join(dir, 'pki'), [nodeId]);
  const children = new Set<ChildProcess>();
  let configs = 0;

  function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    // Only what node needs, so a developer's FLEETPASS_* variables cannot leak into the test.
    return { PATH: process.env.PATH, HOME: dir, LANG: 'C', ...extra };
  }

  function spawnAgent(args: string[], o: SpawnOptionsForAgent = {}): SpawnedAgent {
    const child = (o.spawner ?? plainSpawn)([process.execPath, AGENT_BUNDLE, ...args], {
      env: baseEnv(o.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let out = '';
    let err = '';
    const parsed: Record<string, unknown>[] = [];
    let partial = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        try {
          parsed.push(JSON.parse(l) as Record<string, unknown>);
        } catch {
          // not a log line
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
      child.on('exit', (code, signal) => {
        children.delete(child);
        res({ code, signal });
      }),
    );
    const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
      Promise.race([
        p,
        new Promise<T>((_, rej) =>
          setTimeout(
            () => rej(new Error(`timed out after ${ms} ms waiting for ${what}; stderr: ${err.slice(-2000)}`)),
            ms,
          ).unref(),
        ),
      ]);
    return {
      process: child,
      logs: () => [...parsed],
      stdout: () => out,
      stderr: () => err,
      waitForLog(pred, timeoutMs = 10_000) {
        return within(
          new Promise((res, rej) => {
            const poll = setInterval(() => {
              const hit = parsed.find(pred);
              if (hit) {
                clearInterval(poll);
                res(hit);
              } else if (child.exitCode !== null) {
                clearInterval(poll);
                rej(
                  new Error(
                    `the agent exited (${child.exitCode}) before the log line appeared; stderr: ${err.slice(-2000)}`,
                  ),
                );
              }
            }, 10);
          }),
          timeoutMs,
          'an agent log line',
        );
      },
      waitForExit: (timeoutMs = 15_000) => within(exited, timeoutMs, 'the agent to exit'),
      sigterm: () => child.kill('SIGTERM'),
      kill: () => child.kill('SIGKILL'),
    };
  }

  return {
    dir,
    pki,
    nodeId,
    writeConfig(config, name) {
      const file = join(dir, name ?? `agent-${++configs}.yaml`);
      const full = {
        stateDir: join(dir, 'state'),
        reconnect: { initialMs: 50, maxMs: 500 },
        ...config,
        controller: {
          address: options.controllerAddress ?? '127.0.0.1:1',
          caFile: pki.caFile,
          certFile: pki.nodes[nodeId].certFile,
          keyFile: pki.nodes[nodeId].keyFile,
          ...((config.controller as Record<string, unknown>) ?? {}),
        },
      };
      writeFileSync(file, stringify(full));
      return file;
    },
    spawnRun: (configFile, o) => spawnAgent(['run', '--config', configFile], o),
    async run(args, o = {}) {
      const a = spawnAgent(args, o);
      const { code } = await a.waitForExit(o.timeoutMs ?? 20_000);
      return { code, stdout: a.stdout(), stderr: a.stderr() };
    },
    async cleanup() {
      await Promise.all(
        [...children].map(
          (c) =>
            new Promise<void>((res) => {
              c.once('exit', () => res());
              c.kill('SIGKILL');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
