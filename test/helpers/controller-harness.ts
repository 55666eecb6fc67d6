/**
 * TEST ONLY: starts a real controller on 127.0.0.1 with a temporary state folder and SQLite file, either
 * in-process (`startTestController`, with an injectable clock and captured logs) or as the built
 * `dist/fleetpass-controller.js` process (`spawnControllerProcess`, for kill/restart tests). Helpers
 * issue node certificates from the controller's own CA and create change requests with defaults.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import type { Clock } from '../../shared/clock';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { createLogger, silentLogger, type Logger } from '../../shared/logger';
import { issueClientCertificate, writeSecureFile, type CertAndKey } from '../../shared/pki';
import { loadControllerConfig, type ControllerConfig, type ControllerConfigInput } from '../../controller/config';
import {
  createController,
  type Controller,
  type ControllerContext,
  type ControllerDeps,
} from '../../controller/controller';
import type { ChangeRequestResult, CreateChangeRequestInput } from '../../controller/dispatch';
import type { VerifyResult } from '../../controller/audit';

export const CONTROLLER_BUNDLE = resolve(__dirname, '../../dist/fleetpass-controller.js');

/** A node's TLS material issued by the controller's CA, as PEM and as files. */
export interface NodeCredentials {
  nodeId: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** Issues a client certificate for `nodeId` from the CA in `<stateDir>/pki` (created by the controller). */
export async function issueNodeCredentials(
  stateDir: string,
  nodeId: string,
  ca?: CertAndKey,
): Promise<NodeCredentials> {
  const pkiDir = join(stateDir, 'pki');
  const caPair = ca ?? {
    certPem: readFileSync(join(pkiDir, 'ca.crt'), 'utf8'),
    keyPem: readFileSync(join(pkiDir, 'ca.key'), 'utf8'),
  };
  const node = await issueClientCertificate(caPair, { commonName: nodeId });
  const dir = join(stateDir, '..', 'nodes');
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, `${nodeId}.crt`);
  const keyFile = join(dir, `${nodeId}.key`);
  writeSecureFile(certFile, node.certPem, 0o644);
  writeSecureFile(keyFile, node.keyPem);
  return {
    nodeId,
    caPem: caPair.certPem,
    certPem: node.certPem,
    keyPem: node.keyPem,
    caFile: join(pkiDir, 'ca.crt'),
    certFile,
    keyFile,
  };
}

/** Log lines captured from a controller, parsed. */
export interface LogCapture {
  logger: Logger;
  lines(): Record<string, unknown>[];
  text(): string;
}

export function captureLogs(level = 'debug'): LogCapture {
  let text = '';
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  const logger = createLogger({ level, name: 'test-controller', destination: dest });
  return {
    logger,
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export interface TestController {
  controller: Controller;
  ctx: ControllerContext;
  config: ControllerConfig;
  /** The temporary root (state folder is `<root>/state`). */
  root: string;
  stateDir: string;
  /** 127.0.0.1:<port> of the agent service. */
  address: string;
  /** 127.0.0.1:<port> of the admin API. */
  adminAddress: string;
  caFingerprint: string;
  nodeCredentials(nodeId: string): Promise<NodeCredentials>;
  /** createChangeRequest with defaults: linux, unlock, no approval, requested by "alice", reason "test". */
  request(overrides: Partial<CreateChangeRequestInput> & { nodeIds?: string[] }): Promise<ChangeRequestResult>;
  stop(): Promise<void>;
}

export interface StartTestControllerOptions {
  config?: ControllerConfigInput;
  clock?: Clock;
  log?: Logger;
  deps?: Omit<ControllerDeps, 'clock' | 'log'>;
  /** Run password escrow (default off here; the key comes from the state folder, never the host's FLEETPASS_ESCROW_KEY). */
  escrow?: boolean;
  /** Serve the web console (default off here). */
  web?: boolean;
  /** Reuse a folder (restart tests); default a new temporary one. */
  root?: string;
}

/** A controller in this process on 127.0.0.1:0 with its own state folder; jobs run only via runJob. */
export async function startTestController(options: StartTestControllerOptions = {}): Promise<TestController> {
  const root = options.root ?? mkdtempSync(join(tmpdir(), 'fp-controller-'));
  const stateDir = join(root, 'state');
  const { config } = loadControllerConfig({
    env: {},
    flags: {
      stateDir,
      agentListen: '127.0.0.1:0',
      adminListen: '127.0.0.1:0',
      webListen: '127.0.0.1:0',
      metricsListen: '127.0.0.1:0',
      ...options.config,
      escrow: { ...options.config?.escrow, enabled: options.escrow ?? false },
      web: { enabled: options.web ?? false },
    },
  });
  const controller = createController(config, {
    scheduleJobs: false,
    env: {},
    ...options.deps,
    clock: options.clock,
    log: options.log ?? silentLogger(),
  });
  const started = await controller.start();
  const ctx = controller.context();
  return {
    controller,
    ctx,
    config,
    root,
    stateDir,
    address: `127.0.0.1:${started.agentPort}`,
    adminAddress: started.adminAddress,
    caFingerprint: started.caFingerprint,
    nodeCredentials: (nodeId) => issueNodeCredentials(stateDir, nodeId, ctx.pki.ca),
    request(o) {
      const { nodeIds, ...rest } = o;
      return ctx.dispatcher.createChangeRequest({
        requestedBy: 'alice',
        reason: 'test',
        backend: Backend.BACKEND_LINUX,
        account: 'ilmnuser',
        action: Action.ACTION_UNLOCK,
        needsApproval: false,
        targets: (nodeIds ?? []).map((nodeId) => ({ nodeId })),
        ...rest,
      });
    },
    async stop() {
      await controller.shutdown('test done');
    },
  };
}

/** Removes a test root (after stop). */
export function removeRoot(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

/** A free TCP port on 127.0.0.1 (for a process controller that must come back on the same port). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface ControllerProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once the controller printed its banner; rejects if it exits first. */
  ready(timeoutMs?: number): Promise<{ address: string; caFingerprint: string }>;
  exited(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/** Writes a controller config file (YAML) under `root`; returns its path. */
export function writeControllerConfig(root: string, config: Record<string, unknown>, name = 'controller.yaml'): string {
  mkdirSync(root, { recursive: true });
  const file = join(root, name);
  // Parallel tests must not collide on the default metrics port; a test that needs one passes it.
  writeFileSync(file, stringify({ metricsListen: '127.0.0.1:0', ...config }));
  return file;
}

/** Spawns `node dist/fleetpass-controller.js [args]` with a clean environment and cwd `root`. */
export function spawnControllerProcess(
  root: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): ControllerProcess {
  if (!existsSync(CONTROLLER_BUNDLE)) throw new Error(`${CONTROLLER_BUNDLE} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [CONTROLLER_BUNDLE, ...args], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: root,
      LANG: 'C',
      FLEETPASS_LOG_LEVEL: 'debug',
      // Parallel tests must not collide on the default ports; a test that needs fixed ones passes them.
      FLEETPASS_ADMIN_LISTEN: '127.0.0.1:0',
      FLEETPASS_WEB_LISTEN: '127.0.0.1:0',
      FLEETPASS_METRICS_LISTEN: '127.0.0.1:0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => res({ code, signal })),
  );
  const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
    Promise.race([
      p,
      new Promise<T>((_, rej) =>
        setTimeout(() => rej(new Error(`timed out waiting for ${what}; stderr: ${err.slice(-2000)}`)), ms).unref(),
      ),
    ]);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    ready(timeoutMs = 15_000) {
      return within(
        new Promise((res, rej) => {
          const poll = setInterval(() => {
            const addr = /agents connect:\s+(\S+)/.exec(out);
            const fp = /CA fingerprint:\s+(\S+)/.exec(out);
            if (addr && fp) {
              clearInterval(poll);
              res({ address: addr[1], caFingerprint: fp[1] });
            } else if (child.exitCode !== null) {
              clearInterval(poll);
              rej(new Error(`the controller exited with ${child.exitCode}: ${err.slice(-2000)}`));
            }
          }, 20);
        }),
        timeoutMs,
        'the controller to start',
      );
    },
    exited: (timeoutMs = 15_000) => within(exit, timeoutMs, 'the controller to exit'),
    kill: (signal = 'SIGTERM') => void child.kill(signal),
  };
}

/** Walks the controller's audit chain and checkpoints (the same check as `fleetpass-controller verify-audit`). */
export function verifyChain(ctx: ControllerContext): VerifyResult {
  return ctx.trail.verify();
}
