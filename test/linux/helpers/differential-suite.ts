/** Test-only: one jest test per fixture running the differential and asserting agent == PAM at every step. */
import { agentSaysUnlocked, describe as describeObs, runDifferential, type Observation } from './pam-differential';
import type { PamFixture } from '../../fixtures/pam/fixtures';
import { LockReason } from '../../../shared/gen/fleetpass/v1/common';

/** Compares one observation: per service, and for the account (the strictest service). */
export function assertAgrees(o: Observation): void {
  const refused = Object.entries(o.pam)
    .filter(([, ok]) => !ok)
    .map(([s]) => s);
  const mismatch = Object.keys(o.pam).filter((s) => o.agent[s].startsWith('accepts') !== o.pam[s]);
  // The property that matters most: never "unlocked" while PAM refuses the right password.
  if (refused.length > 0 && agentSaysUnlocked(o.state))
    throw new Error(`agent says unlocked while PAM refuses: ${describeObs(o)}`);
  if (mismatch.length > 0) throw new Error(`agent and PAM disagree on ${mismatch.join(', ')}: ${describeObs(o)}`);
  if (o.state.locked !== refused.length > 0) throw new Error(`account verdict differs from PAM's: ${describeObs(o)}`);
}

/** `resetChangesPassword`: the image's chpasswd stack runs on Debian's modules, so fleetpass reset must work. */
export function differentialSuite(
  fixtures: readonly PamFixture[],
  opts: { resetChangesPassword?: boolean } = {},
): void {
  describe.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, fixture) => {
    it('the agent says locked exactly when PAM refuses the right password, at every step', async () => {
      const run = await runDifferential(fixture, {}, assertAgrees);
      // Every step really ran through PAM, and the counter was exercised.
      expect(run.observations.length).toBeGreaterThanOrEqual(fixture.deny + 4);
      expect(run.observations.every((o) => Object.keys(o.pam).length > 0)).toBe(true);
      const lockedSomewhere = run.observations.some((o) => Object.values(o.pam).some((ok) => !ok));
      expect(lockedSomewhere).toBe(true);
      if (opts.resetChangesPassword) expect(run.resetError ?? '').not.toMatch(/chpasswd/);
      // Where PAM refuses every login whatever the counters say, unlock and reset say they cannot fix it.
      const unlocked = run.observations.find((o) => o.step === 'after fleetpass unlock')!;
      if (unlocked.state.lockReasons.includes(LockReason.LOCK_REASON_PAM_REFUSES)) {
        expect(run.unlockNotes.join('\n')).toMatch(/^cannot fix: PAM refuses every login \(/m);
        if (!/chpasswd/.test(run.resetError ?? ''))
          expect(run.resetError).toMatch(/^FP_STILL_LOCKED: .*cannot fix: PAM refuses every login/);
      }
    }, 600_000);
  });
}
