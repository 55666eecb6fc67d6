/**
 * The escrow engine over a running controller: records (or checks) the master key's check value,
 * captures every password change from the controller's events, reveals, rotates and reports. Built by the
 * composition root when escrow.enabled; the service layer (controller/service/escrow.ts), the rotation
 * job and the tests call it.
 */
import { FleetpassError } from '../../shared/errors';
import type { Principal } from '../access/authenticate';
import type { ControllerEvent } from '../dispatch';
import type { NodeSelection } from '../store';
import { onOperation, reconcile } from './capture';
import { audited, ESCROW_ACTOR, type EscrowDeps } from './escrow-deps';
import { keyCheckOf, keyMatches } from './master-key';
import { collectReveal, decideReveal, getReveal, listReveals, requestReveal, type RevealInput } from './reveal';
import { createRotator } from './rotation';
import { escrowStatus } from './status';

/** Records the key's check value on first use, or refuses a key that does not match it (FP_ESCROW_KEY_WRONG). */
export function recordMasterKey(d: EscrowDeps): 'created' | 'verified' {
  const meta = d.repo.meta();
  if (meta) {
    if (!keyMatches(meta, d.master.key)) {
      throw new FleetpassError(
        'FP_ESCROW_KEY_WRONG',
        `the escrow key from ${d.master.source} (id ${d.master.keyId}) is not the key the escrowed passwords are sealed under (id ${meta.keyId})`,
      );
    }
    return 'verified';
  }
  audited(d, (audit) => {
    d.repo.insertMeta({ keyId: d.master.keyId, keyCheck: keyCheckOf(d.master.key) }, d.clock.now());
    audit.append({
      actor: ESCROW_ACTOR,
      action: 'escrow.key.created',
      outcome: 'ok',
      details: { keyId: d.master.keyId, source: d.master.source },
    });
  });
  return 'created';
}

export type Escrow = ReturnType<typeof createEscrow>;

/** Builds the engine; call `start()` to check the key, listen and catch up. */
export function createEscrow(d: EscrowDeps) {
  const rotator = createRotator(d);
  const background = new Set<Promise<unknown>>();
  let unsubscribe: (() => void) | undefined;

  function track(p: Promise<unknown>): void {
    const t = p
      .catch((err) => d.log.error({ err }, 'escrow background work failed'))
      .finally(() => background.delete(t));
    background.add(t);
  }

  function onEvent(e: ControllerEvent): void {
    if (e.type === 'operation') onOperation(d, e.operation, e.request);
    else if (e.type === 'node' && e.change === 'online') track(rotator.onNodeOnline(e.node.id));
  }

  return {
    deps: d,
    /** Checks (or records) the master key, subscribes to events, and stages/settles what was missed. */
    start(): void {
      const key = recordMasterKey(d);
      unsubscribe = d.dispatcher.events.subscribe(onEvent);
      const caught = reconcile(d);
      d.log.info({ key, keyId: d.master.keyId, keySource: d.master.source, ...caught }, 'escrow started');
    },
    /** Stops listening and waits for passes in progress. */
    async stop(): Promise<void> {
      unsubscribe?.();
      unsubscribe = undefined;
      await Promise.all([...background]);
      await rotator.idle();
    },
    reveal: (p: Principal, input: RevealInput) => requestReveal(d, p, input),
    collect: (p: Principal, revealId: string) => collectReveal(d, p, revealId),
    decide: (p: Principal, input: { revealId: string; approve: boolean; note: string }) => decideReveal(d, p, input),
    getReveal: (id: string) => getReveal(d, id),
    listReveals: (o?: { openOnly?: boolean; limit?: number }) => listReveals(d, o),
    rotateNow: rotator.rotateNow,
    /** The scheduled job: one rotation pass over the fleet. */
    runRotations: rotator.runPass,
    status: (selection?: NodeSelection) => escrowStatus(d, selection),
  };
}
