import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../shared/logger';
import { createBusyProbe } from './busy';

const probe = (c: { file?: string; command?: string[]; timeoutSeconds?: number }) => createBusyProbe({ timeoutSeconds: 5, ...c }, silentLogger());

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
});
