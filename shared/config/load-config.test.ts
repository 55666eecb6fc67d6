import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { loadConfig } from '.';
import { cronExpression } from './cron';

const schema = z
  .object({
    stateDir: z.string().default('/var/lib/x'),
    port: z.number().int().min(1).max(65535).default(7443),
    grpc: z
      .object({ keepaliveSeconds: z.number().int().positive().default(30) })
      .strict()
      .default({ keepaliveSeconds: 30 }),
    schedule: cronExpression.default('*/5 * * * *'),
    insecure: z.boolean().default(false),
  })
  .strict();

function file(text: string, name = 'c.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'fp-config-'));
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('loadConfig', () => {
  it('layers defaults, file, environment and flags in that order', () => {
    const f = file('port: 9000\nstateDir: /from/file\ngrpc:\n  keepaliveSeconds: 10\n');
    const { config } = loadConfig({
      schema,
      file: f,
      env: { FLEETPASS_STATE_DIR: '/from/env', FLEETPASS_GRPC__KEEPALIVE_SECONDS: '20' },
      flags: { port: 9100 },
    });
    expect(config).toMatchObject({
      stateDir: '/from/env',
      port: 9100,
      grpc: { keepaliveSeconds: 20 },
      schedule: '*/5 * * * *',
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.grpc)).toBe(true);
  });

  it('reports every bad key with the file it came from', () => {
    const f = file('port: 70000\nschedule: "every tuesday"\nbogus: 1\n');
    let err: unknown;
    try {
      loadConfig({ schema, file: f, env: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'FP_CONFIG_INVALID' });
    const msg = (err as Error).message;
    expect(msg).toContain(`${f}: port:`);
    expect(msg).toContain(`${f}: schedule: not a valid cron expression`);
    expect(msg).toContain('bogus');
  });

  it('names the environment variable that carried a bad value', () => {
    expect(() => loadConfig({ schema, env: { FLEETPASS_PORT: 'abc' } })).toThrow(/FLEETPASS_PORT: port:/);
  });

  it("skips another program's FLEETPASS_ names when told its own keys", () => {
    const env = { FLEETPASS_CLI_CONFIG: '/x.yaml', FLEETPASS_ADMIN_LISTEN: '127.0.0.1:0', FLEETPASS_PORT: '9001' };
    expect(loadConfig({ schema, env, envKeys: ['stateDir', 'port', 'grpc', 'schedule', 'insecure'] }).config.port).toBe(
      9001,
    );
    expect(() => loadConfig({ schema, env })).toThrow(/cliConfig|adminListen/);
  });

  it('rejects a file that is not valid YAML', () => {
    const f = file('port: [1, 2\n');
    expect(() => loadConfig({ schema, file: f, env: {} })).toThrow(
      expect.objectContaining({ code: 'FP_CONFIG_INVALID' }),
    );
  });

  it('runs the embedded defaults when there is no file', () => {
    const { config, warnings } = loadConfig({
      schema,
      file: '/nonexistent/fleetpass.yaml',
      env: {},
      warn: (c) => (c.insecure ? ['x'] : []),
    });
    expect(config.port).toBe(7443);
    expect(warnings).toEqual([]);
  });
});
