import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fakeClock } from '../shared/clock';
import { silentLogger } from '../shared/logger';
import { Action, Backend, OperationOutcome } from '../shared/gen/fleetpass/v1/common';
import type { Operation } from '../shared/gen/fleetpass/v1/agent';
import { createTestMemoryBackend } from '../test/helpers/test-memory-backend';
import { COMMAND_PATH } from './backends/linux/run-command';
import { createBusyProbe } from './busy';
import { createExecutor } from './executor';
import { openJournal } from './journal';
import { createPolicy } from './policy';

const probe = (c: { file?: string; command?: string[]; timeoutSeconds?: number }) =>
  createBusyProbe({ timeoutSeconds: 5, ...c }, silentLogger());

describe('busy check', () => {
  it('is never busy without a file or command', async () => {
    expect(await probe({})()).toBe(false);
  });

  it('is busy while the marker file exists', async () => {
    const f = join(mkdtempSync(join(tmpdir(), 'fp-busy-')), 'run-in-progress');
    const p = probe({ file: f });
    expect(await p()).toBe(false);
    writeFileSync(f, '');
    expect(await p()).toBe(true);
  });

  it('reads the command exit code: 0 busy, 1 idle, anything else busy (fail closed)', async () => {
    expect(await probe({ command: ['true'] })()).toBe(true);
    expect(await probe({ command: ['false'] })()).toBe(false);
    expect(await probe({ command: ['sh', '-c', 'exit 3'] })()).toBe(true);
    expect(await probe({ command: ['/nonexistent/busy-check'] })()).toBe(true);
    expect(await probe({ command: ['sleep', '5'], timeoutSeconds: 1 })()).toBe(true);
  });

  it('passes arguments as argv, never through a shell', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-busy-'));
    // With a shell, "; touch" would create the file and exit 0 (busy).
    expect(await probe({ command: ['test', '-e', `${dir}/x; touch ${dir}/pwned`] })()).toBe(false);
    expect(await probe({ file: `${dir}/pwned` })()).toBe(false);
  });

  it('kills a check that ignores SIGTERM at its timeout, so the operation queued behind it still runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-busy-'));
    const pidFile = join(dir, 'check.pid');
    // A check that hangs and shrugs off SIGTERM: before, the probe never answered and the executor's queue stopped.
    const stubborn = `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); process.on('SIGTERM', () => {}); setTimeout(() => {}, 60000);`;
    const clock = fakeClock('2026-03-01T10:00:00Z');
    const backend = createTestMemoryBackend({ clock, accounts: { ilmnuser: {} } });
    const executor = createExecutor({
      backends: new Map([[Backend.BACKEND_LINUX, backend]]),
      policy: createPolicy({
        allowRoot: false,
        accounts: [{ backend: 'linux', account: 'ilmnuser', actions: ['unlock'] }],
      }),
      journal: openJournal({ dir, clock, log: silentLogger(), retentionDays: 30 }),
      busy: probe({ command: [process.execPath, '-e', stubborn], timeoutSeconds: 1 }),
      clock,
      log: silentLogger(),
    });
    const op = (requireIdle: boolean): Operation => ({
      id: randomUUID(),
      backend: Backend.BACKEND_LINUX,
      account: 'ilmnuser',
      action: Action.ACTION_UNLOCK,
      newSecret: '',
      expires: new Date(clock.now().getTime() + 60_000),
      requestedBy: 'a',
      approvedBy: 'b',
      reason: 'r',
      created: clock.now(),
      requireIdle,
      temporary: false,
    });
    const started = Date.now();
    const deadline = new Promise<string>((r) => setTimeout(() => r('still waiting'), 4000).unref());
    const [waiting, next] = [executor.execute(op(true)), executor.execute(op(false))];
    expect(await Promise.race([waiting.then((r) => r.errorCode), deadline])).toBe('FP_NODE_BUSY');
    expect(await Promise.race([next.then((r) => r.outcome), deadline])).toBe(
      OperationOutcome.OPERATION_OUTCOME_SUCCEEDED,
    );
    expect(Date.now() - started).toBeLessThan(3500);
    expect(backend.calls.unlock).toBe(1);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('runs the check without the agent environment (no FLEETPASS_* secret) and with the system PATH', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'fp-busy-')), 'env.json');
    const secretName = 'FLEETPASS_BACKENDS__LRM__SERVICE_ACCOUNT__PASSWORD';
    process.env[secretName] = 'Svc-Pa55-not-for-children';
    try {
      const dump = `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.env)); process.exit(1);`;
      expect(await probe({ command: [process.execPath, '-e', dump] })()).toBe(false);
    } finally {
      delete process.env[secretName];
    }
    const env = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>;
    expect(Object.keys(env).filter((k) => k.startsWith('FLEETPASS_'))).toEqual([]);
    expect(JSON.stringify(env)).not.toContain('Svc-Pa55-not-for-children');
    expect(env.PATH).toBe(COMMAND_PATH);
  });
});
