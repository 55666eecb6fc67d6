/**
 * The escrow master key with the real controller binary: a wrong key (file or FLEETPASS_ESCROW_KEY) or a
 * missing one stops the start with a clear error and leaves the data file byte for byte as it was;
 * `fleetpass-controller escrow rotate-master-key` re-wraps every data key (audited, one transaction), after
 * which the old key is refused, the new one starts the controller, and every escrowed password reads back.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Backend } from '../../shared/gen/fleetpass/v1/common';
import { Action } from '../../shared/gen/fleetpass/v1/common';
import type { Principal } from '../../controller/access/authenticate';
import {
  CONTROLLER_BUNDLE,
  removeRoot,
  spawnControllerProcess,
  startTestController,
  writeControllerConfig,
} from '../helpers/controller-harness';
import { connectScriptedAgent } from '../controller/support/scripted-agent';
import { waitUntil } from '../operator/support/operator-harness';
import { startEscrowEnv } from './support/escrow-env';
import { changeRequestView, listNodeViews } from '../../controller/store';
import { verifyChain } from '../helpers/controller-harness';

const KNOWN = [
  { nodeId: 'km-1', account: 'ilmnuser', password: 'Known-pass-A-11' },
  { nodeId: 'km-2', account: 'ilmnuser', password: 'Known-pass-B-22' },
  { nodeId: 'km-1', account: 'ilmnadmin', password: 'Known-pass-C-33' },
];
const OPERATOR: Principal = { name: 'olga', role: 'operator', via: 'local' };

let root: string;
let stateDir: string;
let configFile: string;

/** sha256 of every file in the state folder's top level (database and any sidecar, key files), by name. */
function dataHashes(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(stateDir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name)) {
    out[f] = createHash('sha256')
      .update(readFileSync(join(stateDir, f)))
      .digest('hex');
  }
  return out;
}

function config(keyFile?: string): string {
  return writeControllerConfig(
    root,
    {
      stateDir,
      agentListen: '127.0.0.1:0',
      adminListen: '127.0.0.1:0',
      webListen: '127.0.0.1:0',
      log: { level: 'warn' },
      ...(keyFile ? { escrow: { keyFile } } : {}),
    },
    `controller-${keyFile ? keyFile.split('/').pop() : 'default'}.yaml`,
  );
}

async function startRefused(file: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const p = spawnControllerProcess(root, ['--config', file], env);
  const { code } = await p.exited();
  expect(code).toBe(1);
  expect(p.stdout()).not.toContain('fleetpass controller running');
  return p.stderr();
}

function runController(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [CONTROLLER_BUNDLE, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: root, LANG: 'C' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => res({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  // A controller escrows three known passwords under the key it creates at first start, then stops.
  const env = await startEscrowEnv();
  root = env.tc.root;
  stateDir = env.tc.stateDir;
  const agents = await Promise.all(
    ['km-1', 'km-2'].map(async (id) =>
      connectScriptedAgent({ address: env.tc.address, creds: await env.tc.nodeCredentials(id) }),
    ),
  );
  await waitUntil(() => listNodeViews(env.tc.ctx.store).filter((n) => n.online).length === 2, 10_000, 'two nodes');
  env.addOperator('olga', 'operator');
  env.addOperator('abe', 'approver');
  for (const k of KNOWN) {
    const r = await env.service.requestOperations(env.principal('olga'), {
      selection: { nodeIds: [k.nodeId] },
      backend: Backend.BACKEND_LINUX,
      account: k.account,
      action: Action.ACTION_RESET_PASSWORD,
      password: { source: 'provided', password: k.password },
      reason: 'escrow test',
    });
    const id = r.request!.request.id;
    if (r.needsApproval) await env.service.approveChangeRequest(env.principal('abe'), id, 'ok');
    await waitUntil(() => changeRequestView(env.tc.ctx.store, id).request.state === 'done', 10_000, 'the reset');
  }
  expect(
    env.escrow
      .engine()
      .status()
      .filter((e) => e.versions === 1),
  ).toHaveLength(3);
  for (const a of agents) a.close();
  await env.stop();
  configFile = config();
});

afterAll(() => {
  if (root) removeRoot(root);
});

describe('a wrong or missing master key', () => {
  it('a wrong key in FLEETPASS_ESCROW_KEY stops the start and changes nothing', async () => {
    const before = dataHashes();
    const stderr = await startRefused(configFile, { FLEETPASS_ESCROW_KEY: randomBytes(32).toString('base64') });
    expect(stderr).toMatch(
      /^FP_ESCROW_KEY_WRONG: the escrow key from FLEETPASS_ESCROW_KEY \(id [0-9a-f]{16}\) is not the key .* was sealed under \(id [0-9a-f]{16}\); nothing was changed/m,
    );
    expect(dataHashes()).toEqual(before);
  });

  it('a wrong key file stops the start and changes nothing', async () => {
    const other = join(root, 'other.key');
    writeFileSync(other, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const before = dataHashes();
    expect(await startRefused(config(other))).toMatch(/^FP_ESCROW_KEY_WRONG: /m);
    expect(dataHashes()).toEqual(before);
  });

  it('a missing key file stops the start, is not replaced by a new one, and changes nothing', async () => {
    const missing = join(root, 'lost.key');
    const before = dataHashes();
    expect(await startRefused(config(missing))).toMatch(
      /^FP_ESCROW_KEY_MISSING: the escrow key .*lost\.key does not exist .* holds passwords escrowed under key [0-9a-f]{16}; restore that key/m,
    );
    expect(existsSync(missing)).toBe(false);
    expect(dataHashes()).toEqual(before);
  });

  it('a key file others can read is refused', async () => {
    const loose = join(root, 'loose.key');
    writeFileSync(loose, readFileSync(join(stateDir, 'escrow.key')), { mode: 0o644 });
    expect(await startRefused(config(loose))).toMatch(/^FP_ESCROW_KEY_INVALID: .*readable by group or others/m);
  });
});

describe('master key rotation', () => {
  const newKey = () => join(root, 'escrow-2.key');

  it('re-wraps every data key under a new key file, audited; the old key is refused afterwards', async () => {
    const done = await runController([
      'escrow',
      'rotate-master-key',
      '--config',
      configFile,
      '--new-key-file',
      newKey(),
    ]);
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(
      /escrow master key changed from [0-9a-f]{16} to [0-9a-f]{16}: 3 escrowed password\(s\) re-wrapped \(new key written to .*escrow-2\.key, mode 0600\)/,
    );
    expect(statSync(newKey()).mode & 0o777).toBe(0o600);
    expect(await startRefused(configFile)).toMatch(/^FP_ESCROW_KEY_WRONG: /m);
    const again = await runController([
      'escrow',
      'rotate-master-key',
      '--config',
      configFile,
      '--new-key-file',
      join(root, 'escrow-3.key'),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^FP_ESCROW_KEY_WRONG: /m);
  });

  it('the controller binary starts with the new key', async () => {
    const p = spawnControllerProcess(root, ['--config', config(newKey())]);
    await p.ready();
    p.kill('SIGTERM');
    expect((await p.exited()).code).toBe(0);
  });

  it('every escrowed password reads back under the new key, and the audit chain verifies', async () => {
    // One class without approval, so every account reveals at once.
    const tc = await startTestController({
      root,
      escrow: true,
      config: { escrow: { keyFile: newKey(), classes: [{ name: 'all', accounts: [{ account: '*' }] }] } },
    });
    const escrow = { engine: () => tc.ctx.escrow() };
    try {
      for (const k of KNOWN) {
        const r = escrow.engine().reveal(OPERATOR, {
          nodeId: k.nodeId,
          backend: Backend.BACKEND_LINUX,
          account: k.account,
          reason: 'after key rotation',
        });
        expect(r).toMatchObject({ state: 'revealed', password: k.password });
      }
      const rotated = tc.ctx.audit.query({ filter: { action: 'escrow.master_key.rotated' } }).records;
      expect(rotated).toHaveLength(1);
      expect(rotated[0].actor).toMatch(/^local:/);
      expect(JSON.parse(rotated[0].detailsJson)).toMatchObject({ rewrapped: 3, createdKeyFile: true });
      expect(verifyChain(tc.ctx)).toMatchObject({ ok: true });
    } finally {
      await tc.stop();
    }
  });
});
