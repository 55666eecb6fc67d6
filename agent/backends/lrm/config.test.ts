import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../shared/config';
import { lrmBackendConfigSchema, lrmConfigWarnings, parseLrmBackendConfig, readServicePassword } from './config';
import { DEFAULT_LRM_ENDPOINTS, endpointPath, resolveEndpoints } from './endpoints';

const account = { username: 'fpservice', password: 'Some-Secret-1' };

describe('LRM backend config', () => {
  it('defaults to https://localhost with verification on', () => {
    const c = parseLrmBackendConfig({ serviceAccount: account });
    expect(c).toMatchObject({
      baseUrl: 'https://localhost',
      tls: { insecure: false },
      timeoutMs: 10000,
      allowUntestedVersion: false,
      endpoints: {},
    });
    expect(lrmConfigWarnings(c)).toEqual([]);
  });

  it('collects every problem with its key, without echoing the password', () => {
    const err = (() => {
      try {
        parseLrmBackendConfig({
          baseUrl: 'http://localhost',
          serviceAccount: { username: '-bad', password: 'Some-Secret-1', passwordFile: '/x' },
          tls: { insecure: true, fingerprint: 'abc' },
          endpoints: { nope: {} },
          timeoutMs: 5,
        });
      } catch (e) {
        return e as Error & { code: string; details: { problems: string[] } };
      }
      throw new Error('expected an error');
    })();
    expect(err.code).toBe('FP_CONFIG_INVALID');
    const text = err.details.problems.join('\n');
    for (const key of [
      'lrm.baseUrl',
      'lrm.serviceAccount.username',
      'lrm.serviceAccount',
      'lrm.tls.fingerprint',
      'lrm.endpoints',
      'lrm.timeoutMs',
    ])
      expect(text).toContain(key);
    expect(err.message).not.toContain('Some-Secret-1');
  });

  it('warns about insecure TLS and untested versions through loadConfig', () => {
    const loaded = loadConfig({
      schema: lrmBackendConfigSchema,
      env: {},
      flags: { serviceAccount: account, tls: { insecure: true }, allowUntestedVersion: true },
      warn: lrmConfigWarnings,
    });
    expect(loaded.warnings).toHaveLength(2);
    expect(loaded.warnings[0]).toContain('lrm.tls.insecure');
  });

  it('reads the password file at use, trimming one final newline, and names only the file on error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-lrm-cfg-'));
    const file = join(dir, 'pw');
    writeFileSync(file, 'P@ss word\n', { mode: 0o600 });
    const c = parseLrmBackendConfig({ serviceAccount: { username: 'fpservice', passwordFile: file } });
    expect(readServicePassword(c)).toBe('P@ss word');
    writeFileSync(file, '\n');
    expect(() => readServicePassword(c)).toThrow(expect.objectContaining({ code: 'FP_CONFIG_INVALID' }));
    const missing = parseLrmBackendConfig({
      serviceAccount: { username: 'fpservice', passwordFile: join(dir, 'none') },
    });
    expect(() => readServicePassword(missing)).toThrow(/ENOENT/);
  });
});

describe('LRM endpoint table', () => {
  it('applies overrides per endpoint and keeps the rest', () => {
    const e = resolveEndpoints({ getUser: { path: '/v2/accounts/{username}' }, unlockUser: { method: 'PUT' } });
    expect(e.getUser).toEqual({ method: 'GET', path: '/v2/accounts/{username}' });
    expect(e.unlockUser).toEqual({ method: 'PUT', path: DEFAULT_LRM_ENDPOINTS.unlockUser.path });
    expect(e.login).toEqual(DEFAULT_LRM_ENDPOINTS.login);
    expect(Object.isFrozen(e.getUser)).toBe(true);
  });

  it('URL-encodes the user name into the path', () => {
    expect(endpointPath(DEFAULT_LRM_ENDPOINTS.unlockUser, 'a b/c')).toBe('/api/users/a%20b%2Fc/unlock');
  });
});
