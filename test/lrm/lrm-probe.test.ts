/**
 * `fleetpass-agent lrm probe` against the LRM simulators: it reports the version and which endpoints
 * answer, never calls a write endpoint, stops after the version read on LRM 3.x, and exits 0/1/2.
 */
import { runLrmProbe, type ProbeReport } from '../../agent/commands/lrm-probe';
import { startLrmSimulator, type LrmSimulator } from './lrm-simulator';
import { failLogins } from './lrm-user-client';
import { SERVICE_USER, beyondVersionRead, configFor, startSim } from './fixtures';

async function probeJson(config: Parameters<typeof runLrmProbe>[0]): Promise<{ code: number; report: ProbeReport }> {
  const lines: string[] = [];
  const code = await runLrmProbe(config, (l) => lines.push(l), { json: true });
  expect(lines).toHaveLength(1);
  return { code, report: JSON.parse(lines[0]) as ProbeReport };
}

describe('lrm probe', () => {
  let sim: LrmSimulator;
  beforeEach(async () => {
    sim = await startSim();
  });
  afterEach(() => sim.close());

  it('reports a ready LRM 4.x and sends only read requests, sign-in/out, and OPTIONS to write endpoints', async () => {
    await failLogins(sim, 'alice', 5);
    const { code, report } = await probeJson(configFor(sim));
    expect(code).toBe(0);
    expect(report).toMatchObject({ version: '4.1.0', support: 'supported', ready: true });
    const byName = Object.fromEntries(report.endpoints.map((e) => [e.name, e]));
    expect(byName.loginPage.result).toBe('ok');
    expect(byName.login.result).toBe('ok');
    expect(byName.listUsers.detail).toBe('3 users');
    expect(byName.getUser.detail).toContain(`found ${SERVICE_USER} (role admin)`);
    expect(byName.securitySettings.detail).toBe('allowed login attempts 5, password expiry 90 days');
    expect(byName.unlockUser).toMatchObject({
      result: 'answers',
      method: 'POST',
      path: '/api/users/{username}/unlock',
    });
    expect(byName.setTemporaryPassword.result).toBe('answers');
    expect(byName.logout.result).toBe('ok');

    const methods = new Set(
      sim.requests
        .filter((r) => r.route === 'unlockUser' || r.route === 'setTemporaryPassword' || r.method === 'OPTIONS')
        .map((r) => r.method),
    );
    expect([...methods]).toEqual(['OPTIONS']);
    expect(sim.user('alice')?.locked).toBe(true);
  });

  it('prints a readable table', async () => {
    const lines: string[] = [];
    expect(await runLrmProbe(configFor(sim), (l) => lines.push(l))).toBe(0);
    expect(lines[0]).toBe(`Local Run Manager at ${sim.url}`);
    expect(lines[1]).toBe('version: 4.1.0 (supported)');
    expect(lines.find((l) => l.startsWith('unlockUser'))).toMatch(
      /POST\s+\/api\/users\/\{username\}\/unlock\s+answers\s+OPTIONS allows POST \(not called\)/,
    );
    expect(lines.at(-1)).toMatch(/^ready: /);
  });

  it('stops after the version read on LRM 3.x and prints the support guidance', async () => {
    const old = await startSim({ version: '3.1.0' });
    try {
      const lines: string[] = [];
      expect(await runLrmProbe(configFor(old), (l) => lines.push(l))).toBe(1);
      expect(lines[1]).toBe('version: 3.1.0 (too-old)');
      expect(lines.at(-1)).toContain('Illumina Technical Support');
      expect(beyondVersionRead(old)).toEqual([]);
    } finally {
      await old.close();
    }
  });

  it('names the endpoints that do not fit the table', async () => {
    const moved = await startLrmSimulator({
      users: [{ username: SERVICE_USER, password: 'Svc-Secret-Qz7!kW9#', role: 'admin' }],
      apiPrefix: '/v2',
    });
    try {
      const { code, report } = await probeJson({
        ...configFor(moved),
        endpoints: {
          login: { path: '/v2/auth/login' },
          logout: { path: '/v2/auth/logout' },
          listUsers: { path: '/v2/users' },
        },
      });
      expect(code).toBe(1);
      const results = Object.fromEntries(report.endpoints.map((e) => [e.name, e.result]));
      expect(results).toMatchObject({
        login: 'ok',
        listUsers: 'ok',
        getUser: 'unexpected',
        securitySettings: 'absent',
        unlockUser: 'missing',
        setTemporaryPassword: 'missing',
        logout: 'ok',
      });
      expect(report.message).toContain('getUser unexpected');
    } finally {
      await moved.close();
    }
  });

  it('reports a refused service account and skips the rest', async () => {
    const { code, report } = await probeJson(
      configFor(sim, { serviceAccount: { username: SERVICE_USER, password: 'wrong-password' } }),
    );
    expect(code).toBe(1);
    expect(report.endpoints.find((e) => e.name === 'login')).toMatchObject({
      result: 'refused',
      code: 'FP_LRM_AUTH_FAILED',
    });
    expect(report.endpoints.filter((e) => e.result === 'skipped').map((e) => e.name)).toEqual([
      'logout',
      'listUsers',
      'getUser',
      'securitySettings',
      'unlockUser',
      'setTemporaryPassword',
    ]);
  });

  it('shows the certificate an untrusted LRM presented, so IT can compare and pin it', async () => {
    const { code, report } = await probeJson(configFor(sim, { tls: {} }));
    expect(code).toBe(1);
    expect(report.message).toContain(sim.fingerprint);
    expect(report.message).toContain('set lrm.tls.fingerprint');
    expect(sim.requests).toEqual([]);
  });

  it('reports LRM down and exits 1; bad configuration exits 2', async () => {
    const config = configFor(sim);
    await sim.close();
    const { code, report } = await probeJson(config);
    expect(code).toBe(1);
    expect(report.endpoints[0]).toMatchObject({ name: 'loginPage', result: 'error', code: 'FP_LRM_UNREACHABLE' });
    sim = await startSim();

    const lines: string[] = [];
    expect(
      await runLrmProbe({ baseUrl: 'http://localhost', serviceAccount: { username: SERVICE_USER } }, (l) =>
        lines.push(l),
      ),
    ).toBe(2);
    expect(lines.join('\n')).toContain('FP_CONFIG_INVALID');
    expect(lines.join('\n')).toContain('lrm.baseUrl');
    expect(lines.join('\n')).toContain('exactly one of password or passwordFile');
  });
});
