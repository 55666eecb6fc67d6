/** Fixtures for the LRM tests: a simulator with a service admin and two users, and a backend config for it. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LrmBackendConfigInput } from '../../agent/backends/lrm';
import { startLrmSimulator, type LrmSimulator, type LrmSimulatorOptions } from './lrm-simulator';

export const SERVICE_USER = 'fpservice';
/** Distinctive so a leak is easy to find in captured output. */
export const SERVICE_PASSWORD = 'Svc-Secret-Qz7!kW9#';
export const ALICE_PASSWORD = 'Alice-Orig-Pass-1';
export const BOB_PASSWORD = 'Bob-Orig-Pass-22';

/** A simulator with the service admin, alice and bob (users); options override. */
export function startSim(options: LrmSimulatorOptions = {}): Promise<LrmSimulator> {
  return startLrmSimulator({
    users: [
      { username: SERVICE_USER, password: SERVICE_PASSWORD, role: 'admin' },
      { username: 'alice', password: ALICE_PASSWORD },
      { username: 'bob', password: BOB_PASSWORD },
    ],
    ...options,
  });
}

/** Backend config pinning the simulator's certificate; `overrides` are merged on top. */
export function configFor(sim: LrmSimulator, overrides: Partial<LrmBackendConfigInput> = {}): LrmBackendConfigInput {
  return {
    baseUrl: sim.url,
    serviceAccount: { username: SERVICE_USER, password: SERVICE_PASSWORD },
    tls: { fingerprint: sim.fingerprint },
    timeoutMs: 5000,
    ...overrides,
  };
}

/** Writes text to a fresh temporary file and returns its path. */
export function tempFile(name: string, text: string, mode = 0o600): string {
  const dir = mkdtempSync(join(tmpdir(), 'fp-lrm-'));
  const path = join(dir, name);
  writeFileSync(path, text, { mode });
  return path;
}

/** Requests other than reading the login page, i.e. anything fleetpass must not send to an unsupported LRM. */
export function beyondVersionRead(sim: LrmSimulator): string[] {
  return sim.requests.filter((r) => !(r.method === 'GET' && r.path === '/')).map((r) => `${r.method} ${r.path}`);
}

/** Requests that change LRM data. */
export function writes(sim: LrmSimulator): string[] {
  return sim.requests
    .filter((r) => r.route === 'unlockUser' || r.route === 'setTemporaryPassword')
    .map((r) => `${r.method} ${r.path}`);
}
