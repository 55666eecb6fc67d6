import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadControllerConfig } from './config';

describe('controller config', () => {
  it('runs on embedded defaults with state under ./.fleetpass of the working directory', () => {
    const { config, file } = loadControllerConfig({ env: {}, cwd: '/srv/x' });
    expect(file).toBeUndefined();
    expect(config).toMatchObject({
      stateDir: '/srv/x/.fleetpass',
      database: '/srv/x/.fleetpass/fleetpass.db',
      agentListen: '127.0.0.1:7443',
      adminListen: '127.0.0.1:7444',
      webListen: '127.0.0.1:8443',
      tls: { dir: '/srv/x/.fleetpass/pki' },
      backup: { dir: '/srv/x/.fleetpass/backups', keep: 7 },
    });
    expect(Object.isFrozen(config.jobs)).toBe(true);
  });

  it('takes the state folder from FLEETPASS_STATE_DIR and derives the other paths from it', () => {
    const { config } = loadControllerConfig({
      env: { FLEETPASS_STATE_DIR: '/var/lib/fp', FLEETPASS_TOKEN: 'cli-only', FLEETPASS_CONTROLLER: 'x:1' },
      cwd: '/',
    });
    expect(config.database).toBe('/var/lib/fp/fleetpass.db');
    expect(config.backup.dir).toBe('/var/lib/fp/backups');
  });

  it('names the key of a bad cron expression and every other problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-ccfg-'));
    const f = join(dir, 'c.yaml');
    writeFileSync(f, 'jobs:\n  backup: "at noon"\nagentListen: nowhere\nbackup:\n  keep: 0\n');
    expect(() => loadControllerConfig({ file: f, env: {} })).toThrow(
      expect.objectContaining({ code: 'FP_CONFIG_INVALID' }),
    );
    try {
      loadControllerConfig({ file: f, env: {} });
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain(`${f}: jobs.backup: not a valid cron expression`);
      expect(msg).toContain('agentListen: must be host:port');
      expect(msg).toContain('backup.keep');
    }
  });

  it('refuses a config file that does not exist when one is named', () => {
    expect(() => loadControllerConfig({ file: '/nonexistent/controller.yaml', env: {} })).toThrow(
      expect.objectContaining({ code: 'FP_CONFIG_UNREADABLE' }),
    );
  });

  it('warns about listening on every interface', () => {
    const { warnings } = loadControllerConfig({ env: {}, flags: { agentListen: '0.0.0.0:7443' } });
    expect(warnings).toEqual([expect.stringContaining('agentListen listens on every interface')]);
  });
});
