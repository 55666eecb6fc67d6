/**
 * The REAL `fleetpass` CLI bundle with a reader that goes away before the output (`fleetpass audit ... | head`):
 * the command ends quietly instead of crashing on EPIPE with a stack trace. Uses the offline
 * `audit verify --file`, so no controller is needed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXPORT_COLUMNS } from '../../controller/audit/export-format';

// Not the operator harness: no controller here, only the bundle (built by `npm run build`).
const CLI_BUNDLE = resolve(__dirname, '../../dist/fleetpass.js');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fp-cli-epipe-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the bundle with stdout a pipe whose reading end is closed at once; resolves with how it ended. */
function runWithStdoutClosed(
  args: string[],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI_BUNDLE, ...args], {
    env: { PATH: process.env.PATH, HOME: dir, LANG: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}

describe('fleetpass with its stdout closed early', () => {
  it('audit verify --file ends quietly with exit 0: no unhandled EPIPE, no stack trace', async () => {
    const file = join(dir, 'empty-export.csv');
    writeFileSync(file, `${EXPORT_COLUMNS.join(',')}\n`);
    for (let i = 0; i < 3; i++) {
      expect(await runWithStdoutClosed(['audit', 'verify', '--file', file])).toEqual({
        code: 0,
        signal: null,
        stderr: '',
      });
    }
  });
});
