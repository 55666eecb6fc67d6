/**
 * deploy/config/*.example.yaml cannot drift from the real schemas: each is loaded through the real config
 * loader (with its optional SSR and LRM blocks switched on too), and every key the schema knows must be shown
 * in the example, commented or not.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { agentConfigSchema, loadAgentConfig } from '../../agent/config';
import { controllerConfigSchema, loadControllerConfig } from '../../controller/config';

const CONFIG_DIR = resolve(__dirname, '../../deploy/config');
const agentExample = readFileSync(join(CONFIG_DIR, 'agent.example.yaml'), 'utf8');
const controllerExample = readFileSync(join(CONFIG_DIR, 'controller.example.yaml'), 'utf8');

const dir = mkdtempSync(join(tmpdir(), 'fp-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Switches on an optional block: the lines between "# >>> name" and "# <<< name" lose one leading "# ". */
function uncomment(text: string, block: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `# >>> ${block}`);
  const end = lines.findIndex((l) => l.trim() === `# <<< ${block}`);
  if (start < 0 || end < start) throw new Error(`no "# >>> ${block}" ... "# <<< ${block}" block in the example`);
  for (let i = start + 1; i < end; i++) lines[i] = lines[i].replace(/^(\s*)# ?/, '$1');
  return lines.join('\n');
}

/** Dotted paths of every key in a zod object schema, through defaults, optionals and pipes; records and arrays are leaves. */
function schemaKeys(schema: z.ZodType, prefix = '', skip: string[] = []): string[] {
  let s = schema as unknown as {
    _zod: { def: { type: string; innerType?: unknown; in?: unknown; shape?: Record<string, z.ZodType> } };
  };
  while (['optional', 'default', 'prefault', 'pipe', 'nullable'].includes(s._zod.def.type))
    s = (s._zod.def.innerType ?? s._zod.def.in) as typeof s;
  if (s._zod.def.type !== 'object' || skip.includes(prefix.slice(0, -1))) return [];
  return Object.entries(s._zod.def.shape!).flatMap(([k, v]) => [
    `${prefix}${k}`,
    ...schemaKeys(v, `${prefix}${k}.`, skip),
  ]);
}

function missingKeys(keys: string[], example: string): string[] {
  // Each key's own name must appear as a YAML key line, live or commented out.
  return keys.filter((path) => !new RegExp(`^\\s*(#\\s*)*(- )?\\{?${path.split('.').pop()}:`, 'm').test(example));
}

describe('deploy/config/agent.example.yaml', () => {
  it('loads through the real agent config loader, with no warning', () => {
    const { config, warnings } = loadAgentConfig({ file: write('agent.yaml', agentExample), env: {} });
    expect(warnings).toEqual([]);
    expect(config.controller).toMatchObject({
      address: 'fleetpass.example.org:7443',
      certFile: '/var/lib/fleetpass-agent/node.crt',
    });
    expect(config.stateDir).toBe('/var/lib/fleetpass-agent');
    expect(config.policy.accounts.map((a) => a.account)).toEqual(['ilmnadmin', 'ilmnuser']);
    expect(config.backends.ssr).toBeUndefined();
  });

  it('loads with the SSR block switched on', () => {
    const { config } = loadAgentConfig({ file: write('agent-ssr.yaml', uncomment(agentExample, 'ssr')), env: {} });
    expect(config.backends.ssr).toMatchObject({
      enabled: true,
      baseUrl: 'https://127.0.0.1',
      userList: { keyFile: '/home/admin/.ssh/pdc_ssh_key' },
    });
  });

  it('loads with the LRM block switched on', () => {
    const { config } = loadAgentConfig({ file: write('agent-lrm.yaml', uncomment(agentExample, 'lrm')), env: {} });
    expect(config.backends.lrm).toMatchObject({
      enabled: true,
      serviceAccount: { username: 'fleetpass-svc', passwordFile: '/etc/fleetpass/lrm-service-account.password' },
    });
  });

  it('shows every key the schema has', () => {
    const keys = schemaKeys(agentConfigSchema, '', ['backends.lrm.endpoints']);
    expect(keys).toContain('backends.linux.unlockCommand');
    expect(missingKeys(keys, agentExample)).toEqual([]);
  });

  it('is refused by the loader when a key is misspelt (the test is not vacuous)', () => {
    const bad = agentExample.replace('heartbeatSeconds: 30', 'heartbeatSecs: 30');
    expect(() => loadAgentConfig({ file: write('agent-bad.yaml', bad), env: {} })).toThrow(/heartbeatSecs/);
  });
});

describe('deploy/config/controller.example.yaml', () => {
  it('loads through the real controller config loader; the only warnings are the listen addresses', () => {
    const { config, warnings } = loadControllerConfig({
      file: write('controller.yaml', controllerExample),
      env: {},
      cwd: '/',
    });
    expect(config).toMatchObject({
      stateDir: '/var/lib/fleetpass',
      database: '/var/lib/fleetpass/fleetpass.db',
      tls: { dir: '/var/lib/fleetpass/pki' },
      backup: { dir: '/var/lib/fleetpass/backups', keep: 7 },
    });
    expect(warnings).toHaveLength(3);
    for (const key of ['agentListen', 'adminListen', 'webListen']) expect(warnings.join('\n')).toContain(key);
  });

  it('shows every key the schema has', () => {
    const keys = schemaKeys(controllerConfigSchema('/'));
    expect(keys).toContain('jobs.checkpoint');
    expect(missingKeys(keys, controllerExample)).toEqual([]);
  });

  it('is refused by the loader when a value is wrong (the test is not vacuous)', () => {
    const bad = controllerExample.replace('backup: "17 3 * * *"', 'backup: "at three"');
    expect(() => loadControllerConfig({ file: write('controller-bad.yaml', bad), env: {}, cwd: '/' })).toThrow(
      /jobs\.backup/,
    );
  });
});
