/**
 * Test-only: one simulated SSR router node. A real-PAM sandbox holds its Linux accounts (pam_faillock with the
 * SSR defaults: 6 failures in 15 minutes lock for 30 minutes), the SSR simulator serves its REST API and user
 * store on 127.0.0.1, and the real SSR backend runs inside the sandbox as the agent would on the router.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeClock } from '../../../shared/clock';
import { createPamSandbox, type PamSandbox, type SandboxUser } from '../../../shared/pam-sandbox';
import type { SsrBackendConfigInput } from '../../../agent/backends/ssr';
import { createSsrSimulator, type SimUserInit, type SsrSimulator } from '../ssr-simulator';
import { sandboxLinuxPort } from './sandbox-linux-port';
import { startSandboxedSsrBackend, type SandboxedSsrBackend } from './sandboxed-ssr-backend';

export interface RouterUser extends SandboxUser, Omit<SimUserInit, 'name'> {
  /** false: a Linux account the SSR store does not know. */
  readonly inStore?: boolean;
}

export interface SsrRouter {
  readonly sb: PamSandbox;
  readonly sim: SsrSimulator;
  readonly backend: SandboxedSsrBackend;
  readonly clock: ReturnType<typeof fakeClock>;
  /** The backend config pointing at this simulator, trusting it by fingerprint. */
  config(overrides?: Partial<SsrBackendConfigInput>): SsrBackendConfigInput;
  shadowLine(user: string): Promise<string | undefined>;
  /** pamtester as an SSH login would do it. */
  authenticate(user: string, password: string): Promise<boolean>;
  destroy(): Promise<void>;
}

export const ADMIN = { name: 'admin', password: 'Adm1n-Router#', role: 'admin' as const };

/** Starts a router node with `admin` plus `users`. */
export async function startSsrRouter(users: RouterUser[]): Promise<SsrRouter> {
  const all: RouterUser[] = [ADMIN, ...users];
  const sb = await createPamSandbox({
    users: all.map(({ name, password }) => ({ name, password })),
    deny: 6,
    unlockTime: 1800,
    failInterval: 900,
  });
  const clock = fakeClock(new Date());
  let sim: SsrSimulator;
  try {
    sim = await createSsrSimulator({
      linux: sandboxLinuxPort(sb),
      clock,
      users: all
        .filter((u) => u.inStore !== false)
        .map(({ name, role, enabled, authenticationType, passwordChangedAt }) => ({
          name,
          role,
          enabled,
          authenticationType,
          passwordChangedAt,
        })),
    });
  } catch (e) {
    await sb.destroy();
    throw e;
  }
  const dir = mkdtempSync(join(tmpdir(), 'fp-ssr-router-'));
  const keyFile = join(dir, 'pdc_ssh_key');
  writeFileSync(keyFile, sim.localKey, { mode: 0o600 });
  const config = (overrides: Partial<SsrBackendConfigInput> = {}): SsrBackendConfigInput => ({
    baseUrl: sim.baseUrl,
    tls: { fingerprint: sim.fingerprint },
    // Generous budgets: a loaded machine must not turn a slow answer into a timeout. The timeout paths are tested
    // with their own short budgets (agent/backends/ssr/https-transport.test.ts).
    serviceCheck: { command: sim.serviceCheckCommand, timeoutMs: 30_000 },
    userList: { keyFile },
    timeoutMs: 60_000,
    ...overrides,
  });
  const backend = startSandboxedSsrBackend(sb, () => config());
  return {
    sb,
    sim,
    backend,
    clock,
    config,
    shadowLine: (user) => sb.shadowLine(user),
    authenticate: (user, password) => sb.authenticate(user, password),
    destroy: async () => {
      await backend.stop();
      await sim.close();
      await sb.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
