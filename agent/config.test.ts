import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgentConfig } from './config';

function file(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'fp-agent-config-')), 'agent.yaml');
  writeFileSync(p, text);
  return p;
}
const POLICY = 'policy:\n  accounts:\n    - { backend: linux, account: ilmnuser, actions: [unlock, reset_password] }\n';

describe('agent config', () => {
  it('fills every default and keeps the file values', () => {
    const { config, warnings } = loadAgentConfig({ file: file(`platform: nextseq-2000\n${POLICY}`), env: {} });
    expect(config).toMatchObject({
      platform: 'nextseq-2000',
      controller: { address: '127.0.0.1:7443', keepaliveSeconds: 30 },
      reconnect: { initialMs: 1000, maxMs: 60000 },
      policy: {
        allowRoot: false,
        accounts: [{ backend: 'linux', account: 'ilmnuser', actions: ['unlock', 'reset_password'] }],
      },
      backends: { linux: { enabled: true } },
    });
    expect(warnings).toEqual([]);
    expect(Object.isFrozen(config.policy.accounts)).toBe(true);
  });

  it('names each bad key', () => {
    const f = file(
      'controller:\n  address: "no port"\npolicy:\n  accounts:\n    - { backend: linux, account: "../x", actions: [explode] }\n',
    );
    let err: Error | undefined;
    try {
      loadAgentConfig({ file: f, env: {} });
    } catch (e) {
      err = e as Error;
    }
    expect(err).toMatchObject({ code: 'FP_CONFIG_INVALID' });
    expect(err!.message).toContain('controller.address');
    expect(() => loadAgentConfig({ file: file('reconnect: { initialMs: 500, maxMs: 100 }\n'), env: {} })).toThrow(
      /reconnect.maxMs: must be at least/,
    );
    expect(err!.message).toContain('policy.accounts.0.account');
    expect(err!.message).toContain('policy.accounts.0.actions.0');
  });

  it('refuses root in the policy unless allowRoot, and warns when it is allowed', () => {
    const root = 'policy:\n  accounts:\n    - { backend: linux, account: root, actions: [unlock] }\n';
    expect(() => loadAgentConfig({ file: file(root), env: {} })).toThrow(
      /policy.accounts.0.account: root is listed but policy.allowRoot is false/,
    );
    const { warnings } = loadAgentConfig({
      file: file(root.replace('policy:\n', 'policy:\n  allowRoot: true\n')),
      env: {},
    });
    expect(warnings).toEqual([expect.stringContaining('policy.allowRoot is true')]);
  });

  it('refuses a policy entry for a backend that is not enabled', () => {
    expect(() => loadAgentConfig({ file: file(`backends:\n  linux: { enabled: false }\n${POLICY}`), env: {} })).toThrow(
      /policy.accounts.0.backend: backend "linux" is not enabled/,
    );
  });

  it('takes FLEETPASS_* environment over the file and flags over both', () => {
    const { config } = loadAgentConfig({
      file: file(`stateDir: /from/file\n${POLICY}`),
      env: {
        FLEETPASS_STATE_DIR: '/from/env',
        FLEETPASS_CONTROLLER__ADDRESS: 'ctl.lab:7443',
        FLEETPASS_CONFIG: '/ignored',
      },
      flags: { hostname: 'flag-host' },
    });
    expect(config).toMatchObject({
      stateDir: '/from/env',
      hostname: 'flag-host',
      controller: { address: 'ctl.lab:7443' },
    });
  });

  it('says which file is missing when one is required', () => {
    expect(() => loadAgentConfig({ file: '/nonexistent/agent.yaml', env: {} })).toThrow(
      expect.objectContaining({ code: 'FP_CONFIG_UNREADABLE' }),
    );
  });

  it('warns about a policy that manages nothing', () => {
    const { warnings } = loadAgentConfig({ file: file('platform: linux\n'), env: {} });
    expect(warnings).toEqual([expect.stringContaining('policy.accounts is empty')]);
  });
});
