import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSsrService } from './service-check';

describe('checkSsrService', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fp-ssr-svc-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A stand-in for `systemctl is-active`: prints `out`, exits with `code`. */
  function script(name: string, out: string, code: number, sleepSeconds = 0): string {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${sleepSeconds ? `sleep ${sleepSeconds}\n` : ''}printf '%s\\n' '${out}'\nexit ${code}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  it('is active only when the command prints active and exits 0', async () => {
    await expect(checkSsrService([script('up', 'active', 0)], 2000)).resolves.toEqual({ active: true, state: 'active' });
  });

  it('reports the unit state systemd prints when the service is down', async () => {
    await expect(checkSsrService([script('down', 'inactive', 3)], 2000)).resolves.toEqual({ active: false, state: 'inactive' });
    await expect(checkSsrService([script('failed', 'failed', 3)], 2000)).resolves.toEqual({ active: false, state: 'failed' });
  });

  it('fails closed on a contradiction, a missing command or a timeout', async () => {
    await expect(checkSsrService([script('liar', 'active', 1)], 2000)).resolves.toEqual({ active: false, state: 'active' });
    await expect(checkSsrService([script('odd', 'Active (running) $(id)', 0)], 2000)).resolves.toEqual({ active: false, state: 'unknown' });
    await expect(checkSsrService([join(dir, 'missing')], 2000)).resolves.toEqual({ active: false, state: 'unknown' });
    await expect(checkSsrService([script('slow', 'active', 0, 5)], 200)).resolves.toMatchObject({ active: false });
  });
});
