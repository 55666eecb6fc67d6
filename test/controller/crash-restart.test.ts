/**
 * SIGKILL the controller process in the middle of a wave, then start it again on the same files.
 * At the kill: one node has answered (recorded), two have the operation but are frozen (SIGSTOP) so
 * their answer is still to come, and one node is offline so its operation was never sent. After the
 * restart: every record made before the kill is still there unchanged, every node ends up unlocked,
 * each operation was applied exactly once on its node (the agent's journal answers a redelivery), the
 * controller records one result per operation, and the audit chain verifies.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { build } from 'esbuild';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { hostAccountFingerprint } from '../../shared/pam-sandbox';
import { verifyAudit } from '../../controller/audit';
import type { CreateChangeRequestInput } from '../../controller/dispatch';
import { freePort, issueNodeCredentials, removeRoot, writeControllerConfig } from '../helpers/controller-harness';
import { USER_PASSWORD, applications, createSandboxedNode, type SandboxedNode } from '../helpers/sandboxed-node';
import { waitUntil } from '../helpers/wait-until';

const CHILD_SOURCE = resolve(__dirname, 'support/controller-child.ts');
let childBundle: string;
const IDS = ['crash-1', 'crash-2', 'crash-3', 'crash-4'];

interface Child {
  proc: ChildProcess;
  call<T>(type: string, body?: Record<string, unknown>): Promise<T>;
  output(): string;
}

/** Starts the controller process and waits until it listens. */
async function startChild(configFile: string): Promise<Child> {
  const proc = fork(childBundle, [configFile], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, NODE_PATH: resolve(__dirname, '../../node_modules') },
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let next = 1;
  const pending = new Map<number, { res: (v: unknown) => void; rej: (e: unknown) => void }>();
  let ready: (() => void) | undefined;
  const readyP = new Promise<void>((res) => (ready = res));
  proc.on('message', (m: { id: number; body?: unknown; error?: unknown }) => {
    if (m.id === 0) return ready!();
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p?.rej(m.error);
    else p?.res(m.body);
  });
  const exited = new Promise<never>((_, rej) =>
    proc.once('exit', (code) => rej(new Error(`controller exited (${code}): ${out.slice(-3000)}`))),
  );
  let timer: NodeJS.Timeout | undefined;
  const tooLate = new Promise(
    (_, rej) => (timer = setTimeout(() => rej(new Error(`controller did not start: ${out.slice(-3000)}`)), 30_000)),
  );
  exited.catch(() => undefined);
  await Promise.race([readyP, exited, tooLate]).finally(() => clearTimeout(timer));
  return {
    proc,
    output: () => out,
    call<T>(type: string, body: Record<string, unknown> = {}) {
      const id = next++;
      proc.send({ id, type, ...body });
      return new Promise<T>((res, rej) => pending.set(id, { res: res as (v: unknown) => void, rej }));
    },
  };
}

interface Status {
  nodes: { id: string; online: boolean }[];
  operations: { id: string; nodeId: string; state: string; attempts: number; replayed: boolean }[];
}

let root: string;
const nodes: SandboxedNode[] = [];
let controller: Child | undefined;
let hostBefore: Record<string, string>;

beforeAll(async () => {
  hostBefore = await hostAccountFingerprint();
  root = mkdtempSync(join(tmpdir(), 'fp-crash-'));
  // Bundled like dist/fleetpass-controller.js, so the child is plain node with no loader process.
  childBundle = join(root, 'controller-child.js');
  await build({
    entryPoints: [CHILD_SOURCE],
    outfile: childBundle,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    external: ['better-sqlite3'],
    banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__importMetaUrl' },
    logLevel: 'warning',
  });
});
afterAll(async () => {
  for (const n of nodes) if (n.agent) n.agent.process.kill('SIGCONT');
  controller?.proc.kill('SIGKILL');
  await Promise.all(nodes.map((n) => n.destroy()));
  removeRoot(root);
  expect(await hostAccountFingerprint()).toEqual(hostBefore);
});

describe('controller killed mid-wave', () => {
  it('loses nothing recorded, applies nothing twice, and its chain verifies after a restart', async () => {
    const stateDir = join(root, 'state');
    const port = await freePort();
    const configFile = writeControllerConfig(root, {
      stateDir,
      agentListen: `127.0.0.1:${port}`,
      log: { level: 'debug' },
    });
    controller = await startChild(configFile);
    const address = `127.0.0.1:${port}`;
    for (const id of IDS) {
      const n = await createSandboxedNode(id, address, await issueNodeCredentials(stateDir, id));
      await n.sandbox.failLogins('ilmnuser', 3);
      nodes.push(n);
    }
    for (const n of nodes.slice(0, 3)) n.start();
    await waitUntil(
      async () => (await controller!.call<Status>('status')).nodes.filter((n) => n.online).length === 3,
      20_000,
      'three nodes online',
    );
    // The fourth node is known (enrolled) but offline: its operation will wait.
    nodes[3].start();
    await waitUntil(
      async () => (await controller!.call<Status>('status')).nodes.length === 4,
      20_000,
      'the fourth node',
    );
    nodes[3].agent!.kill();
    await nodes[3].agent!.waitForExit();
    await waitUntil(
      async () => (await controller!.call<Status>('status')).nodes.find((n) => n.id === 'crash-4')?.online === false,
      10_000,
      'the fourth node offline',
    );

    // Freeze two agents: they will hold the operation without answering.
    nodes[1].agent!.process.kill('SIGSTOP');
    nodes[2].agent!.process.kill('SIGSTOP');
    const input: CreateChangeRequestInput = {
      requestedBy: 'alice',
      reason: 'INC-crash',
      backend: Backend.BACKEND_LINUX,
      account: 'ilmnuser',
      action: Action.ACTION_UNLOCK,
      needsApproval: false,
      targets: IDS.map((nodeId) => ({ nodeId })),
    };
    const { requestId, operations } = await controller.call<{
      requestId: string;
      operations: { id: string; nodeId: string }[];
    }>('request', { input });
    const opOf = (nodeId: string) => operations.find((o) => o.nodeId === nodeId)!.id;
    await waitUntil(
      async () =>
        (await controller!.call<Status>('status', { requestId })).operations.find((o) => o.nodeId === 'crash-1')
          ?.state === 'succeeded',
      15_000,
      'the first result',
    );

    controller.proc.kill('SIGKILL');
    await new Promise((r) => controller!.proc.once('exit', r));

    // What the file holds right after the crash.
    const db = new Database(join(stateDir, 'fleetpass.db'), { readonly: true });
    const states = Object.fromEntries(
      (
        db.prepare('SELECT node_id, state FROM operations WHERE request_id = ?').all(requestId) as {
          node_id: string;
          state: string;
        }[]
      ).map((r) => [r.node_id, r.state]),
    );
    const auditAtCrash = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq').all() as {
      seq: number;
      hash: string;
    }[];
    expect(verifyAudit(db)).toMatchObject({ ok: true });
    db.close();
    expect(states).toEqual({
      'crash-1': 'succeeded',
      'crash-2': 'dispatched',
      'crash-3': 'dispatched',
      'crash-4': 'approved',
    });

    // The frozen agents wake up with the operation in hand while the controller is down.
    nodes[1].agent!.process.kill('SIGCONT');
    nodes[2].agent!.process.kill('SIGCONT');
    controller = await startChild(configFile);
    nodes[3].start();
    const final = await waitUntil(
      async () => {
        const s = await controller!.call<Status>('status', { requestId });
        return s.operations.every((o) => o.state === 'succeeded') ? s : undefined;
      },
      30_000,
      'every operation to succeed',
    );
    expect(final.operations).toHaveLength(4);

    for (const n of nodes) {
      const id = opOf(n.nodeId);
      await n.agent!.waitForLog(
        (l) =>
          l.operationId === id &&
          (l.msg === 'operation succeeded' || l.msg === 'operation already applied; replaying the recorded result'),
        10_000,
      );
      expect(applications(n.agent!, id)).toBe(1);
      expect(await n.sandbox.authenticate('ilmnuser', USER_PASSWORD)).toBe(true);
    }

    const verify = await controller.call<{ ok: boolean; total: number }>('verify');
    expect(verify).toMatchObject({ ok: true });
    controller.proc.kill('SIGTERM');
    await new Promise((r) => controller!.proc.once('exit', r));
    controller = undefined;

    const after = new Database(join(stateDir, 'fleetpass.db'), { readonly: true });
    try {
      const prefix = after
        .prepare('SELECT seq, hash FROM audit_log WHERE seq <= ? ORDER BY seq')
        .all(auditAtCrash.length);
      expect(prefix).toEqual(auditAtCrash);
      const finals = after
        .prepare(
          "SELECT o.node_id, count(*) AS n FROM operation_transitions t JOIN operations o ON o.id = t.operation_id WHERE o.request_id = ? AND t.to_state = 'succeeded' GROUP BY o.node_id",
        )
        .all(requestId);
      expect(finals).toEqual(IDS.map((node_id) => ({ node_id, n: 1 })));
      expect(
        after
          .prepare("SELECT count(*) FROM audit_log WHERE request_id = ? AND action = 'operation.succeeded'")
          .pluck()
          .get(requestId),
      ).toBe(4);
      expect(verifyAudit(after, { checkpointFile: join(stateDir, 'audit-checkpoints.log') })).toMatchObject({
        ok: true,
      });
    } finally {
      after.close();
    }
  });
});
