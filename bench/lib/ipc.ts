/**
 * BENCHMARK ONLY: request/response over Node's child-process IPC channel. A child serves named handlers
 * (`serveIpc`); the parent forks it and calls them (`forkChild`). Benchmark processes (controller, fleet
 * workers, baselines) are driven this way so each runs on its own event loop, as it would in production.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';

type Handler = (body: Record<string, unknown>) => unknown;

interface Request {
  id: number;
  type: string;
  body?: Record<string, unknown>;
}

/** In a child: answers calls by type; resolves/rejects of async handlers are sent back. Sends "ready" first. */
export function serveIpc(handlers: Record<string, Handler>, ready: Record<string, unknown> = {}): void {
  if (!process.send)
    throw new Error('this benchmark process must be started by bench/run.mjs (it needs an IPC channel)');
  process.on('message', (m: Request) => {
    const reply = (msg: Record<string, unknown>) => process.send?.({ id: m.id, ...msg });
    const h = handlers[m.type];
    if (!h) return reply({ error: `unknown command ${m.type}` });
    Promise.resolve()
      .then(() => h(m.body ?? {}))
      .then(
        (body) => reply({ body }),
        (e: unknown) => reply({ error: (e as Error)?.stack ?? String(e) }),
      );
  });
  process.send({ id: 0, body: ready });
}

export interface Child {
  readonly proc: ChildProcess;
  /** What the child said when it became ready. */
  readonly info: Record<string, unknown>;
  call<T = unknown>(type: string, body?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

export interface ForkOptions {
  args?: string[];
  /** stdout and stderr go to this file (appended); default inherited. */
  logFile?: string;
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}

/** Forks a bundled benchmark entry and waits until it is ready. */
export async function forkChild(bundle: string, o: ForkOptions = {}): Promise<Child> {
  const out = o.logFile ? openSync(o.logFile, 'a') : 'inherit';
  const proc = fork(bundle, o.args ?? [], {
    stdio: ['ignore', out, out, 'ipc'],
    execArgv: o.execArgv ?? [],
    env: { ...process.env, ...o.env },
  });
  let next = 1;
  const pending = new Map<number, { res: (v: unknown) => void; rej: (e: Error) => void; timer?: NodeJS.Timeout }>();
  let readyRes!: (v: Record<string, unknown>) => void;
  const ready = new Promise<Record<string, unknown>>((r) => (readyRes = r));
  proc.on('message', (m: { id: number; body?: unknown; error?: string }) => {
    if (m.id === 0) return readyRes((m.body ?? {}) as Record<string, unknown>);
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (p.timer) clearTimeout(p.timer);
    if (m.error) p.rej(new Error(m.error));
    else p.res(m.body);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.once('exit', (code, signal) => {
      for (const p of pending.values()) p.rej(new Error(`${bundle} exited (${code ?? signal}) before answering`));
      pending.clear();
      res({ code, signal });
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  const info = await Promise.race([
    ready,
    exited.then((e) =>
      Promise.reject(
        new Error(
          `${bundle} exited (${e.code ?? e.signal}) before it was ready${o.logFile ? `; see ${o.logFile}` : ''}`,
        ),
      ),
    ),
    new Promise<never>(
      (_, rej) =>
        (timer = setTimeout(() => rej(new Error(`${bundle} not ready in time`)), o.readyTimeoutMs ?? 120_000)),
    ),
  ]).finally(() => clearTimeout(timer));
  return {
    proc,
    info,
    exited,
    call<T>(type: string, body: Record<string, unknown> = {}, timeoutMs = 600_000) {
      const id = next++;
      return new Promise<T>((res, rej) => {
        const t = setTimeout(() => {
          pending.delete(id);
          rej(new Error(`${type} on ${bundle} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { res: res as (v: unknown) => void, rej, timer: t });
        proc.send({ id, type, body });
      });
    },
    kill: (signal = 'SIGTERM') => void proc.kill(signal),
  };
}
