/**
 * TEST ONLY: real controller and agent processes for fault tests. The controller is
 * test/controller/support/controller-child.ts (createController plus an IPC command channel standing in
 * for the admin API); the agent is ./agent-child.ts over the file backend. Both bundled once with esbuild
 * and run as plain node, so a SIGKILL hits the program itself and nothing in between.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { CreateChangeRequestInput } from '../../../controller/dispatch';
import { bundleChild, REPO } from './bundle';

export interface Bundles {
  controller: string;
  agent: string;
}

/** Bundles the controller child and the agent child into `dir`. */
export async function bundleChildren(dir: string): Promise<Bundles> {
  const [controller, agent] = await Promise.all([
    bundleChild(resolve(__dirname, '../../controller/support/controller-child.ts'), dir, 'controller-child'),
    bundleChild(resolve(__dirname, 'agent-child.ts'), dir, 'agent-child'),
  ]);
  return { controller, agent };
}

const childEnv = () => ({ ...process.env, NODE_PATH: join(REPO, 'node_modules') });

export interface OperationStatus {
  id: string;
  nodeId: string;
  state: string;
  attempts: number;
  replayed: boolean;
}

export interface ControllerStatus {
  nodes: { id: string; online: boolean }[];
  operations: OperationStatus[];
}

export interface ControllerChild {
  proc: ChildProcess;
  output(): string;
  request(
    input: CreateChangeRequestInput,
  ): Promise<{ requestId: string; operations: { id: string; nodeId: string }[] }>;
  status(requestId?: string): Promise<ControllerStatus>;
  verify(): Promise<{ ok: boolean; total: number; problem: string }>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Starts the controller process on `configFile` and waits until it listens. */
export async function startControllerChild(bundle: string, configFile: string): Promise<ControllerChild> {
  const proc = fork(bundle, [configFile], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: childEnv() });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let next = 1;
  const pending = new Map<number, { res: (v: unknown) => void; rej: (e: unknown) => void }>();
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  proc.on('message', (m: { id: number; body?: unknown; error?: { message: string } }) => {
    if (m.id === 0) return ready();
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p?.rej(new Error(m.error.message));
    else p?.res(m.body);
  });
  const exit = new Promise<void>((res) =>
    proc.once('exit', () => {
      for (const p of pending.values()) p.rej(new Error('the controller exited'));
      pending.clear();
      res();
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    readyP,
    exit.then(() => Promise.reject(new Error(`the controller exited at start: ${out.slice(-3000)}`))),
    new Promise(
      (_, rej) =>
        (timer = setTimeout(() => rej(new Error(`the controller did not start: ${out.slice(-3000)}`)), 30_000)),
    ),
  ]).finally(() => clearTimeout(timer));
  const call = <T>(type: string, body: Record<string, unknown> = {}) => {
    const id = next++;
    proc.send({ id, type, ...body });
    return new Promise<T>((res, rej) => pending.set(id, { res: res as (v: unknown) => void, rej }));
  };
  return {
    proc,
    output: () => out,
    request: (input) => call('request', { input }),
    status: (requestId) => call('status', { requestId }),
    verify: () => call('verify'),
    async kill(signal) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exit;
    },
  };
}

export interface AgentChild {
  proc: ChildProcess;
  logs(): Record<string, unknown>[];
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Starts an agent process with the given (raw) config over the file backend in `backendDir`. */
export function startAgentChild(
  bundle: string,
  o: { config: Record<string, unknown>; backendDir: string; delayMs: number },
): AgentChild {
  const proc = spawn(process.execPath, [bundle, JSON.stringify(o)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv(),
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<void>((res) => proc.once('exit', () => res()));
  return {
    proc,
    logs: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async kill(signal) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exit;
    },
  };
}
