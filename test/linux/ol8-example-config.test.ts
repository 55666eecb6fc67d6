/**
 * The product's core promise on the layout NextSeq-class instruments most likely run: Oracle Linux 8
 * with authselect (sssd, with-faillock; system-auth and password-auth are symlinks into /etc/authselect)
 * and Illumina's policy (10 failures, 10 minutes) in faillock.conf. The agent runs with the example
 * config exactly as shipped (deploy/config/agent.example.yaml, no pamServices): it must report the lock
 * PAM enforces, unlock it so that PAM takes the password again, and doctor must explain why.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createPamSandbox, type PamSandbox } from '../../shared/pam-sandbox';
import { FailureCounter, LockReason } from '../../shared/gen/fleetpass/v1/common';
import { createAgentHarness, type AgentHarness } from '../helpers/agent-harness';
import { fixtureRoot } from '../fixtures/pam/fixtures';
import { startSandboxedBackend, type SandboxedBackend } from './helpers/sandboxed-backend';

const EXAMPLE = join(__dirname, '../../deploy/config/agent.example.yaml');
const PASSWORD = 'Ilmn-User-pw-10';

let sb: PamSandbox;
let harness: AgentHarness;
let backend: SandboxedBackend;

beforeAll(async () => {
  harness = await createAgentHarness({ nodeId: 'nextseq-ol8' });
  sb = await createPamSandbox({ users: [{ name: 'ilmnuser', password: PASSWORD }] });
  await sb.layPamTree(fixtureRoot('ol8-authselect-sssd-faillock'));
  // The example's backends.linux section, untouched (without the registry's `enabled` switch).
  const { enabled: _enabled, ...linux } = (
    parse(readFileSync(EXAMPLE, 'utf8')) as { backends: { linux: Record<string, unknown> } }
  ).backends.linux;
  backend = startSandboxedBackend(sb, linux);
}, 120_000);

afterAll(async () => {
  await backend?.stop();
  await sb?.destroy();
  await harness?.cleanup();
});

const spawner = (argv: readonly string[], o: Parameters<PamSandbox['spawn']>[1]) => sb.spawn(argv, o);

describe('Oracle Linux 8 authselect layout with the untouched example config', () => {
  it('reports the lock PAM enforces after 10 failures, unlocks it, and PAM then takes the password', async () => {
    expect(await sb.authenticate('ilmnuser', PASSWORD, { service: 'sshd' })).toBe(true);
    for (let i = 0; i < 10; i++)
      expect(await sb.authenticate('ilmnuser', `wrong-${i}`, { service: i % 2 ? 'login' : 'sshd' })).toBe(false);
    expect(await sb.authenticate('ilmnuser', PASSWORD, { service: 'sshd' })).toBe(false); // PAM refuses the right password

    const { code, stdout, stderr } = await harness.run(['accounts', '--json', '--config', EXAMPLE], { spawner });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const row = (JSON.parse(stdout) as Array<{ account: string; state: Record<string, unknown> }>).find(
      (r) => r.account === 'ilmnuser',
    )!;
    expect(row.state).toMatchObject({
      locked: true,
      failureCount: 10,
      denyThreshold: 10,
      counter: 'FAILURE_COUNTER_FAILLOCK',
      lockReasons: ['LOCK_REASON_TOO_MANY_FAILURES'],
    });
    const details = row.state.details as Record<string, string>;
    for (const svc of ['sshd', 'login', 'sudo', 'su', 'cockpit'])
      expect(details[`linux.pam.${svc}`]).toMatch(/^refuses \(locked\)/);
    expect(details['linux.counter_line']).toMatch(
      /^\/etc\/pam\.d\/(password|system)-auth:6: preauth deny=10 \[\/etc\/security\/faillock\.conf:\d+\]/,
    );

    const result = await backend.unlock('ilmnuser');
    expect(result.before).toMatchObject({
      locked: true,
      lockReasons: [LockReason.LOCK_REASON_TOO_MANY_FAILURES],
      counter: FailureCounter.FAILURE_COUNTER_FAILLOCK,
    });
    expect(result.after).toMatchObject({ locked: false, failureCount: 0 });
    expect(result.notes).toEqual(['cleared 10 failed logins']);
    for (const svc of ['sshd', 'login', 'sudo', 'cockpit'])
      expect(await sb.authenticate('ilmnuser', PASSWORD, { service: svc })).toBe(true);
  }, 300_000);

  it('doctor explains which files, lines and thresholds make the verdict', async () => {
    await sb.authenticate('ilmnuser', 'wrong-once', { service: 'sshd' });
    const { code, stdout } = await harness.run(['doctor', '--json', '--config', EXAMPLE, 'ilmnuser'], { spawner });
    expect(code).toBe(0);
    const r = JSON.parse(stdout) as {
      servicesWhy: string;
      services: Array<{
        service: string;
        files: Array<{ path: string; realPath?: string }>;
        auth: Array<{ where: string }>;
        counters: Array<{ module: string; settings: string }>;
      }>;
      accounts: Array<{
        account: string;
        locked: boolean;
        failures: number;
        deny: number;
        services: Array<{ service: string; verdict: string }>;
      }>;
    };
    expect(r.servicesWhy).toMatch(/default login services/);
    const sshd = r.services.find((s) => s.service === 'sshd')!;
    expect(sshd.files).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: '/etc/pam.d/sshd' }),
        expect.objectContaining({ path: '/etc/pam.d/password-auth', realPath: '/etc/authselect/password-auth' }),
        expect.objectContaining({ path: '/etc/pam.d/postlogin', realPath: '/etc/authselect/postlogin' }),
      ]),
    );
    // Never a file libpam would not open.
    expect(sshd.files.map((f) => f.path).filter((p) => /system-auth|fingerprint|smartcard/.test(p))).toEqual([]);
    expect(sshd.auth.map((a) => a.where)).toContain('/etc/pam.d/password-auth:6');
    expect(sshd.counters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          module: 'pam_faillock preauth',
          settings: expect.stringMatching(/^deny=10 \(\/etc\/security\/faillock\.conf:\d+\), unlock_time=600/),
        }),
      ]),
    );
    expect(r.accounts[0]).toMatchObject({ account: 'ilmnuser', locked: false, failures: 1, deny: 10 });
    expect(r.accounts[0].services.map((s) => s.verdict)).toEqual(r.accounts[0].services.map(() => 'accepts'));

    const text = await harness.run(['doctor', '--config', EXAMPLE, 'ilmnuser'], { spawner });
    expect(text.stdout).toMatch(/\/etc\/pam\.d\/password-auth -> \/etc\/authselect\/password-auth/);
    expect(text.stdout).toMatch(/ilmnuser: not locked; counter faillock 1\/10/);
  }, 300_000);
});
