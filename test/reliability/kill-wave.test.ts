/**
 * SIGKILL at random points of a wave, for several seeds. Each seed draws a fault schedule: when the
 * controller process dies after the request was recorded, which agent processes die, and when (a slow
 * backend keeps each change in flight for a while, so kills land before, during and after it). Then
 * everything is started again on the same files. Afterwards, for every operation: exactly one final
 * state transition and one outcome audit record; the node's backend started it at most once (exactly
 * once when it succeeded, and the account is unlocked); a failure is only FP_OPERATION_INTERRUPTED on a
 * node that was killed; each agent journal started it at most once; and the audit chain verifies.
 * (test/controller/crash-restart.test.ts covers one fixed kill of the controller with real PAM nodes.)
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { verifyAudit } from '../../controller/audit';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { freePort, issueNodeCredentials, removeRoot, writeControllerConfig } from '../helpers/controller-harness';
import { isLocked, readCalls, seedFileBackend } from './support/file-backend';
import { seededPrng } from './support/prng';
import {
  bundleChildren,
  startAgentChild,
  startControllerChild,
  type AgentChild,
  type Bundles,
  type ControllerChild,
} from './support/processes';
import { waitUntil } from '../helpers/wait-until';

const SEEDS = [11, 42, 2026];
const NODES = 5;
const FINAL = ['succeeded', 'failed', 'refused', 'expired', 'cancelled'];

let bundles: Bundles;
let buildDir: string;
const running: Array<{ kill(s: NodeJS.Signals): Promise<void> }> = [];

beforeAll(async () => {
  buildDir = mkdtempSync(join(tmpdir(), 'fp-killwave-build-'));
  bundles = await bundleChildren(buildDir);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill('SIGKILL')));
});
afterAll(() => removeRoot(buildDir));

interface Node {
  id: string;
  backendDir: string;
  stateDir: string;
  config: Record<string, unknown>;
  delayMs: number;
  agent?: AgentChild;
}

function journalStarts(stateDir: string, operationId: string): number {
  const file = join(stateDir, 'operations.journal');
  if (!existsSync(file)) return 0;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; id: string })
    .filter((e) => e.type === 'started' && e.id === operationId).length;
}

describe('SIGKILL of the controller and of agents at random points of a wave', () => {
  it.each(SEEDS)(
    'seed %i: every operation ends in exactly one recorded outcome and none is applied twice',
    async (seed) => {
      const prng = seededPrng(seed);
      const root = mkdtempSync(join(tmpdir(), `fp-killwave-${seed}-`));
      try {
        const stateDir = join(root, 'state');
        const port = await freePort();
        const configFile = writeControllerConfig(root, {
          stateDir,
          agentListen: `127.0.0.1:${port}`,
          log: { level: 'debug' },
        });
        let controller: ControllerChild = await startControllerChild(bundles.controller, configFile);
        running.push({ kill: (s) => controller.kill(s) });

        const nodes: Node[] = [];
        for (let i = 1; i <= NODES; i++) {
          const id = `kw-${seed}-${i}`;
          const creds = await issueNodeCredentials(stateDir, id);
          const backendDir = join(root, `backend-${i}`);
          const agentState = join(root, `agent-${i}`);
          mkdirSync(backendDir);
          seedFileBackend(backendDir, ['ilmnuser']);
          nodes.push({
            id,
            backendDir,
            stateDir: agentState,
            delayMs: prng.int(50, 400),
            config: {
              controller: {
                address: `127.0.0.1:${port}`,
                caFile: creds.caFile,
                certFile: creds.certFile,
                keyFile: creds.keyFile,
              },
              stateDir: agentState,
              hostname: id,
              reconnect: { initialMs: 50, maxMs: 300 },
              changeCheckSeconds: 0,
              policy: { accounts: [{ backend: 'linux', account: 'ilmnuser', actions: ['unlock'] }] },
            },
          });
        }
        const startAgent = (n: Node) => {
          const a = startAgentChild(bundles.agent, { config: n.config, backendDir: n.backendDir, delayMs: n.delayMs });
          n.agent = a;
          running.push(a);
        };
        nodes.forEach(startAgent);
        await waitUntil(
          async () => (await controller.status()).nodes.filter((n) => n.online).length === NODES,
          20_000,
          'every node online',
        );

        const { requestId, operations } = await controller.request({
          requestedBy: 'alice',
          reason: `KILL-${seed}`,
          backend: Backend.BACKEND_LINUX,
          account: 'ilmnuser',
          action: Action.ACTION_UNLOCK,
          needsApproval: false,
          targets: nodes.map((n) => ({ nodeId: n.id })),
        });
        expect(operations).toHaveLength(NODES);

        // The seeded fault schedule: the controller dies at one point, one to three agents at others.
        const controllerAt = prng.int(0, 450);
        const victims = prng.pick(nodes, prng.int(1, 3)).map((n) => ({ node: n, at: prng.int(0, 600) }));
        const t0 = Date.now();
        const waitUntilT = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms - (Date.now() - t0))));
        await Promise.all([
          waitUntilT(controllerAt).then(() => controller.kill('SIGKILL')),
          ...victims.map((v) => waitUntilT(v.at).then(() => v.node.agent!.kill('SIGKILL'))),
        ]);

        controller = await startControllerChild(bundles.controller, configFile);
        running.push({ kill: (s) => controller.kill(s) });
        for (const v of victims) startAgent(v.node);
        const final = await waitUntil(
          async () => {
            const s = await controller.status(requestId);
            return s.operations.every((o) => FINAL.includes(o.state)) ? s : undefined;
          },
          30_000,
          `every operation final (schedule: controller ${controllerAt} ms, agents ${victims.map((v) => `${v.node.id}@${v.at}`).join(' ')})`,
        );
        // Let any redelivery after the final result play out before counting.
        await new Promise((r) => setTimeout(r, 500));

        await Promise.all(nodes.map((n) => n.agent!.kill('SIGTERM')));
        await controller.kill('SIGTERM');

        const db = new Database(join(stateDir, 'fleetpass.db'), { readonly: true });
        try {
          const killed = new Set(victims.map((v) => v.node.id));
          for (const op of final.operations) {
            const node = nodes.find((n) => n.id === op.nodeId)!;
            const finals = db
              .prepare(
                `SELECT count(*) FROM operation_transitions WHERE operation_id = ? AND to_state IN (${FINAL.map(() => '?').join(',')})`,
              )
              .pluck()
              .get(op.id, ...FINAL);
            expect({ op: op.nodeId, finals }).toEqual({ op: op.nodeId, finals: 1 });
            const outcomes = db
              .prepare(
                `SELECT count(*) FROM audit_log WHERE operation_id = ? AND action IN (${FINAL.map(() => '?').join(',')})`,
              )
              .pluck()
              .get(op.id, ...FINAL.map((s) => `operation.${s}`));
            expect({ op: op.nodeId, outcomes }).toEqual({ op: op.nodeId, outcomes: 1 });
            const starts = readCalls(node.backendDir).filter((c) => c.phase === 'start').length;
            expect(starts).toBeLessThanOrEqual(1);
            expect(journalStarts(node.stateDir, op.id)).toBeLessThanOrEqual(1);
            const row = db.prepare('SELECT state, error_code FROM operations WHERE id = ?').get(op.id) as {
              state: string;
              error_code: string;
            };
            if (row.state === 'succeeded') {
              expect(starts).toBe(1);
              expect(isLocked(node.backendDir, 'ilmnuser')).toBe(false);
            } else {
              // Only a node killed while applying may end failed, and then it says so instead of guessing.
              expect({
                node: op.nodeId,
                state: row.state,
                code: row.error_code,
                killed: killed.has(op.nodeId),
              }).toEqual({ node: op.nodeId, state: 'failed', code: 'FP_OPERATION_INTERRUPTED', killed: true });
            }
          }
          expect(verifyAudit(db, { checkpointFile: join(stateDir, 'audit-checkpoints.log') })).toMatchObject({
            ok: true,
          });
        } finally {
          db.close();
        }
      } finally {
        removeRoot(root);
      }
    },
  );
});
