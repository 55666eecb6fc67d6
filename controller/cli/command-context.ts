/**
 * What every command gets: the loaded CLI config, a connected admin API, the output, and a clock.
 * `runCommand` turns a command body into an exit code (0 ok, 1 failed, 2 usage) and prints errors once.
 */
import { createAdminApi, type AdminApi } from './admin-client';
import { loadCliConfig, type CliConfig } from './cli-config';
import { errorLine, processOutput, UsageError, type Output } from './output';

export interface GlobalOptions {
  config?: string;
  controller?: string;
  json?: boolean;
}

export interface CommandContext {
  config: CliConfig;
  api(): AdminApi;
  /** The admin API without a credential (for `fleetpass login`). */
  anonymousApi(): AdminApi;
  out: Output;
  json: boolean;
  now(): Date;
  /** Reads all of stdin (for --password-stdin); never echoes it. */
  readStdin(): Promise<string>;
  /** Asks a yes/no question on the terminal; false when stdin is not a terminal. */
  confirm(question: string): Promise<boolean>;
  /** True when stdin is a terminal a person can answer on. */
  isInteractive(): boolean;
  /** True when stderr is a terminal (progress bars go there). */
  stderrIsTty(): boolean;
  /** Closes the admin connection if one was opened. */
  close(): void;
}

export interface ContextDeps {
  out?: Output;
  env?: NodeJS.ProcessEnv;
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  now?: () => Date;
  stderrIsTty?: boolean;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks).toString('utf8');
}

export function createContext(globals: GlobalOptions, deps: ContextDeps = {}): CommandContext {
  const config = loadCliConfig({ file: globals.config, env: deps.env, flags: { controller: globals.controller } });
  const stdin = deps.stdin ?? process.stdin;
  let api: AdminApi | undefined;
  let anon: AdminApi | undefined;
  return {
    config,
    api: () => (api ??= createAdminApi(config)),
    anonymousApi: () => (anon ??= createAdminApi(config, { anonymous: true })),
    out: deps.out ?? processOutput,
    json: Boolean(globals.json),
    now: deps.now ?? (() => new Date()),
    readStdin: () => readAll(stdin),
    close: () => {
      api?.close();
      anon?.close();
    },
    isInteractive: () => Boolean(stdin.isTTY),
    stderrIsTty: () => deps.stderrIsTty ?? Boolean(process.stderr.isTTY),
    async confirm(question) {
      if (!stdin.isTTY) return false;
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
      } finally {
        rl.close();
      }
    },
  };
}

/** Runs a command body and maps its outcome to an exit code, printing any error as one sentence. */
export async function runCommand(
  globals: GlobalOptions,
  body: (ctx: CommandContext) => Promise<number>,
  deps: ContextDeps = {},
): Promise<number> {
  const out = deps.out ?? processOutput;
  let ctx: CommandContext | undefined;
  try {
    ctx = createContext(globals, deps);
    return await body(ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      out.error(e.code ? `error ${e.code}: ${e.message}` : `usage: ${e.message}`);
      return 2;
    }
    out.error(errorLine(e));
    return 1;
  } finally {
    ctx?.close();
  }
}
