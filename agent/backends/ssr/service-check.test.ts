import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
    writeFileSync(
      path,
      `#!/bin/sh\n${sleepSeconds ? `sleep ${sleepSeconds}\n` : ''}printf '%s\\n' '${out}'\nexit ${code}\n`,
    );
    chmodSync(path, 0o755);
    return path;
  }

  it('is active only when the command prints active and exits 0', async () => {
    await expect(checkSsrService([script('up', 'active', 0)], 2000)).resolves.toEqual({
      active: true,
      state: 'active',
    });
  });

  it('reports the unit state systemd prints when the service is down', async () => {
    await expect(checkSsrService([script('down', 'inactive', 3)], 2000)).resolves.toEqual({
      active: false,
      state: 'inactive',
    });
    await expect(checkSsrService([script('failed', 'failed', 3)], 2000)).resolves.toEqual({
      active: false,
      state: 'failed',
    });
  });

  it('fails closed on a contradiction, a missing command or a timeout', async () => {
    await expect(checkSsrService([script('liar', 'active', 1)], 2000)).resolves.toEqual({
      active: false,
      state: 'active',
    });
    await expect(checkSsrService([script('odd', 'Active (running) $(id)', 0)], 2000)).resolves.toEqual({
      active: false,
      state: 'unknown',
    });
    await expect(checkSsrService([join(dir, 'missing')], 2000)).resolves.toEqual({ active: false, state: 'unknown' });
    await expect(checkSsrService([script('slow', 'active', 0, 5)], 200)).resolves.toMatchObject({ active: false });
  });

  it('kills a check that ignores SIGTERM at the timeout', async () => {
    const path = join(dir, 'stubborn');
    writeFileSync(path, "#!/bin/sh\ntrap '' TERM\nsleep 30\necho active\n");
    chmodSync(path, 0o755);
    const started = Date.now();
    await expect(checkSsrService([path], 300)).resolves.toEqual({ active: false, state: 'unknown' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("runs the check with the system PATH only, never the agent's PATH or FLEETPASS_* environment", async () => {
    // A writable directory early in the agent's PATH must not supply "systemctl".
    const shadow = join(dir, 'shadow-bin');
    mkdirSync(shadow);
    writeFileSync(join(shadow, 'fp-test-systemctl'), '#!/bin/sh\necho active\n');
    chmodSync(join(shadow, 'fp-test-systemctl'), 0o755);
    const savedPath = process.env.PATH;
    process.env.PATH = `${shadow}:${savedPath ?? ''}`;
    process.env.FLEETPASS_BACKENDS__SSR__USER_LIST__PASSWORD = 'Ssr-Pa55-not-for-children';
    try {
      await expect(checkSsrService(['fp-test-systemctl', 'is-active', '128T'], 2000)).resolves.toEqual({
        active: false,
        state: 'unknown',
      });
      // Prints "active" only when no FLEETPASS_ variable reached it.
      const envCheck = join(dir, 'env-check');
      writeFileSync(envCheck, '#!/bin/sh\nif env | grep -q FLEETPASS_; then echo leaked; else echo active; fi\n');
      chmodSync(envCheck, 0o755);
      await expect(checkSsrService([envCheck], 2000)).resolves.toEqual({ active: true, state: 'active' });
    } finally {
      process.env.PATH = savedPath;
      delete process.env.FLEETPASS_BACKENDS__SSR__USER_LIST__PASSWORD;
    }
  });
});
