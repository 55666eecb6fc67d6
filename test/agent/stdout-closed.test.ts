/**
 * The REAL agent bundle with a reader that goes away before the output (`fleetpass-agent check-config | head`):
 * the command ends quietly instead of crashing on EPIPE with a stack trace.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_BUNDLE } from '../helpers/agent-harness';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fp-agent-epipe-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the bundle with stdout a pipe whose reading end is closed at once; resolves with how it ended. */
function runWithStdoutClosed(
  args: string[],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [AGENT_BUNDLE, ...args], {
    env: { PATH: process.env.PATH, HOME: dir, LANG: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}

describe('fleetpass-agent with its stdout closed early', () => {
  it('check-config ends quietly: no unhandled EPIPE, no stack trace', async () => {
    const file = join(dir, 'agent.yaml');
    // Valid enough to print the whole effective config (many writes) before its TLS-file complaint.
    writeFileSync(file, 'backends:\n  linux:\n    enabled: false\n');
    for (let i = 0; i < 3; i++) {
      const r = await runWithStdoutClosed(['check-config', '--config', file]);
      expect(r.signal).toBeNull();
      // Only the command's own sentences: warnings and at most its one error line.
      expect(r.stderr.split('\n').filter((l) => l && !/^(warning: |error FP_[A-Z_]+: )/.test(l))).toEqual([]);
      expect(r.stderr).not.toContain('EPIPE');
    }
  });
});
