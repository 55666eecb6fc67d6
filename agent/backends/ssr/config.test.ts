import { parseSsrBackendConfig, ssrConfigWarnings } from './config';

describe('SSR backend config', () => {
  it('has safe defaults: loopback HTTPS, system CAs, systemctl, key-based admin login', () => {
    const c = parseSsrBackendConfig({});
    expect(c).toEqual({
      baseUrl: 'https://127.0.0.1',
      tls: { insecure: false },
      serviceCheck: { command: ['systemctl', 'is-active', '128T'], timeoutMs: 5000 },
      userList: { enabled: true, username: 'admin' },
      timeoutMs: 10000,
    });
    expect(ssrConfigWarnings(c)).toEqual([]);
  });

  it('lists every bad key in one FP_CONFIG_INVALID', () => {
    let caught: { code?: string; details?: { problems?: string[] } } = {};
    try {
      parseSsrBackendConfig({
        baseUrl: 'http://127.0.0.1',
        tls: { caFile: '/a', fingerprint: 'ab'.repeat(32) },
        serviceCheck: { command: [] },
        userList: { username: '-x', keyFile: '/k', passwordFile: '/p' },
      });
    } catch (e) {
      caught = e as typeof caught;
    }
    expect(caught.code).toBe('FP_CONFIG_INVALID');
    const keys = (caught.details?.problems ?? []).map((p) => p.split(':')[0]);
    expect(keys).toEqual(
      expect.arrayContaining([
        'ssr.baseUrl',
        'ssr.tls',
        'ssr.serviceCheck.command',
        'ssr.userList.username',
        'ssr.userList',
      ]),
    );
  });

  it('refuses insecure together with a trust setting, and a bad fingerprint', () => {
    expect(() => parseSsrBackendConfig({ tls: { insecure: true, caFile: '/a' } })).toThrow(
      /insecure cannot be combined/,
    );
    expect(() => parseSsrBackendConfig({ tls: { fingerprint: 'sha256:12' } })).toThrow(/SHA-256 fingerprint/);
  });

  it('warns when the API is not on this router', () => {
    expect(ssrConfigWarnings(parseSsrBackendConfig({ baseUrl: 'https://10.0.0.1', tls: { caFile: '/a' } }))).toEqual([
      expect.stringContaining('not this router'),
    ]);
  });
});
