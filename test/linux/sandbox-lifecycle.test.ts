/**
 * A process that dies without destroy() must not leave a sandbox behind: the keeper exits when its stdin
 * pipe closes, so the namespace and its mounts go with it.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Running means present and not a zombie waiting for init to reap it. */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

it('a SIGKILLed owner leaves no keeper process behind', async () => {
  const owner = spawn(process.execPath, ['-r', 'tsx/cjs', join(__dirname, 'helpers/crashing-sandbox-owner.ts')], {
    cwd: join(__dirname, '../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve) => createInterface({ input: owner.stdout! }).once('line', resolve));
  const { pid, tmpDir } = JSON.parse(line) as { pid: number; tmpDir: string };
  expect(running(pid)).toBe(true);
  owner.kill('SIGKILL');
  await new Promise((r) => owner.once('exit', r));
  for (let i = 0; i < 400 && running(pid); i++) await new Promise((r) => setTimeout(r, 5));
  expect(running(pid)).toBe(false);
  // Only an empty directory is left on the host (the layers were in the namespace's tmpfs); remove it.
  expect(readdirSync(tmpDir)).toEqual([]);
  rmdirSync(tmpDir);
});
