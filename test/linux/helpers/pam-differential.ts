/**
 * Test-only: the differential check of one PAM fixture. The fixture is laid into a sandbox, the real
 * agent backend (default config, as the example config ships it) runs inside, and after every step
 * (0 .. deny+1 failures made through the login services in turn, records aged past unlock_time,
 * fleetpass unlock, fleetpass reset) the agent's verdict for the account is compared with what PAM
 * itself does with the right password through each login service (pamtester).
 *
 * A right-password login can change the counter (authsucc resets it), so every service is tried from
 * the same saved faillock file, which is put back before the next one and before the next step.
 * Ageing is done in the records themselves (their time field moved back), which both pam_faillock and
 * the agent read against the real clock, so no step waits for time to pass.
 */
import { randomBytes } from 'node:crypto';
import { AccountState, FailureCounter } from '../../../shared/gen/fleetpass/v1/common';
import { createPamSandbox, type PamSandbox } from '../../../shared/pam-sandbox';
import type { LinuxBackendConfigInput } from '../../../agent/backends/linux';
import { fixtureRoot, type PamFixture } from '../../fixtures/pam/fixtures';
import { startSandboxedBackend, type SandboxedBackend } from './sandboxed-backend';
import { waitUntil } from '../../helpers/wait-until';

const USER = 'ilmnuser';
const FAILLOCK_FILE = `/run/faillock/${USER}`;
/** Run as root by pamtester, su's pam_rootok lets every login through; the agent judges su for a user caller. */
const NOT_COMPARED = new Set(['su']);

export interface Observation {
  readonly step: string;
  readonly state: AccountState;
  /** PAM's answer per compared service: true = the right password was accepted. */
  readonly pam: Readonly<Record<string, boolean>>;
  /** The agent's verdict per service, from the state details. */
  readonly agent: Readonly<Record<string, string>>;
}

export interface DifferentialRun {
  readonly observations: readonly Observation[];
  readonly unlockNotes: readonly string[];
  readonly resetError?: string;
}

async function readCounter(sb: PamSandbox): Promise<Buffer | undefined> {
  return sb.readFile(FAILLOCK_FILE).catch(() => undefined);
}

async function putCounter(sb: PamSandbox, bytes: Buffer | undefined): Promise<void> {
  if (bytes === undefined) await sb.exec(['rm', '-f', '--', FAILLOCK_FILE]);
  else await sb.writeFile(FAILLOCK_FILE, bytes);
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.equals(b);
}

/** The record file with every record's time moved back by `seconds` (struct tally: u64 time at 56). */
function aged(bytes: Buffer, seconds: number): Buffer {
  const out = Buffer.from(bytes);
  for (let off = 0; off + 64 <= out.length; off += 64)
    out.writeBigUInt64LE(out.readBigUInt64LE(off + 56) - BigInt(seconds), off + 56);
  return out;
}

/** Runs the whole differential for `fixture`; every observation is also checked by `check`. */
export async function runDifferential(
  fixture: PamFixture,
  config: LinuxBackendConfigInput,
  check: (o: Observation) => void,
): Promise<DifferentialRun> {
  const password = `Right-${randomBytes(6).toString('base64url')}-1`;
  const sb = await createPamSandbox({ users: [{ name: USER, password }] });
  let backend: SandboxedBackend | undefined;
  const observations: Observation[] = [];
  try {
    await sb.layPamTree(fixtureRoot(fixture.name));
    backend = startSandboxedBackend(sb, config);
    const b = backend;

    const observe = async (step: string, pw: string): Promise<Observation> => {
      const saved = await readCounter(sb);
      const state = await b.inspect(USER);
      const agent: Record<string, string> = {};
      for (const [k, v] of Object.entries(state.details))
        if (k.startsWith('linux.pam.')) agent[k.slice('linux.pam.'.length)] = v;
      const compared = Object.keys(agent)
        .filter((s) => !NOT_COMPARED.has(s))
        .sort();
      // All services at once (a refusal costs pam_faildelay's seconds each); valid only if none of them
      // wrote to the counter, else again one by one, each from the saved file.
      let pam: Record<string, boolean> = Object.fromEntries(
        await Promise.all(
          compared.map(async (svc) => [svc, await sb.authenticate(USER, pw, { service: svc })] as const),
        ),
      );
      const after = await readCounter(sb);
      if (!sameBytes(after, saved)) {
        pam = {};
        for (const svc of compared) {
          await putCounter(sb, saved);
          pam[svc] = await sb.authenticate(USER, pw, { service: svc });
        }
      }
      await putCounter(sb, saved);
      const o = { step, state, pam, agent };
      observations.push(o);
      check(o);
      return o;
    };
    // A failed login is recorded before libpam's failure delay; continue once the record is there (or
    // the process has ended, for a service that records nothing) and collect the result at the end.
    const pending: Array<Promise<void>> = [];
    const fail = async (i: number, services: readonly string[]): Promise<void> => {
      const svc = services[i % services.length];
      const before = (await readCounter(sb))?.length ?? 0;
      let done = false;
      const login = sb
        .authenticate(USER, `wrong-${randomBytes(6).toString('base64url')}`, { service: svc })
        .then((ok) => {
          done = true;
          if (ok) throw new Error(`a wrong password was accepted through ${svc}`);
        });
      pending.push(login);
      await waitUntil(
        async () => done || ((await readCounter(sb))?.length ?? 0) > before,
        120_000,
        'the login to finish or record a failure',
      );
    };

    const first = await observe('0 failures', password);
    const services = Object.keys(first.pam);
    for (let k = 1; k <= fixture.deny + 1; k++) {
      await fail(k - 1, services);
      await observe(`${k} failures`, password);
    }
    const locked = await readCounter(sb);
    if (locked) {
      await putCounter(sb, aged(locked, fixture.unlockTime + 60));
      await observe('after unlock_time', password);
      await putCounter(sb, locked);
    }
    const unlock = await b.unlock(USER);
    await observe('after fleetpass unlock', password);

    for (let k = 0; k < fixture.deny; k++) await fail(k, services);
    await observe(`${fixture.deny} failures again`, password);
    const fresh = `Reset-${randomBytes(6).toString('base64url')}-2`;
    let resetError: string | undefined;
    try {
      await b.resetPassword(USER, fresh);
    } catch (e) {
      resetError = `${(e as { code?: string }).code}: ${(e as Error).message}`;
    }
    // chpasswd goes through the image's own `chpasswd` PAM service; on RHEL layouts Debian has no
    // pam_pwquality.so for its password stack, so the change is refused and the old password stays right.
    const changed = resetError === undefined || !/chpasswd/.test(resetError);
    await observe(changed ? 'after fleetpass reset' : 'after a refused fleetpass reset', changed ? fresh : password);
    await Promise.all(pending);
    return { observations, unlockNotes: unlock.notes, resetError };
  } finally {
    await backend?.stop();
    await sb.destroy();
  }
}

/** True when the agent says "not locked" as a verdict (an unknown counter is no verdict). */
export function agentSaysUnlocked(state: AccountState): boolean {
  return !state.locked && state.counter !== FailureCounter.FAILURE_COUNTER_UNKNOWN;
}

/** One line per observation for failure messages. */
export function describe(o: Observation): string {
  return (
    `${o.step}: agent ${o.state.locked ? 'LOCKED' : 'unlocked'} (${o.state.failureCount}/${o.state.denyThreshold}); ` +
    Object.keys(o.pam)
      .map((s) => `${s}: pam ${o.pam[s] ? 'accepts' : 'REFUSES'}, agent ${o.agent[s]}`)
      .join(' | ')
  );
}
