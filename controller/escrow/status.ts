/** Escrow status per account: when and by whom the password was set, versions kept, last reveal, next and last rotation. */
import { selectNodes, type NodeSelection } from '../store';
import { classify } from './escrow-config';
import type { EscrowDeps } from './escrow-deps';
import type { AccountKey } from './escrow-repo';
import { dueOf } from './rotation';

export interface EscrowStatusEntry extends AccountKey {
  /** When the current escrowed password took effect, and who asked for it; null: none escrowed yet. */
  setAt: string | null;
  setBy: string;
  /** Versions kept (current and previous). */
  versions: number;
  lastRevealed: string | null;
  nextRotation: string | null;
  /** Why the next rotation is due: the class schedule, a post-use or asked-for demand. */
  rotationReason: string;
  rotationClass: string;
  lastRotationAt: string | null;
  lastRotationOutcome: string;
  /** A password change of this account is under way. */
  inFlight: boolean;
}

/** Every tracked account, or those on the selected nodes; never a password. */
export function escrowStatus(d: EscrowDeps, selection?: NodeSelection): EscrowStatusEntry[] {
  const picked =
    selection && (selection.all || selection.nodeIds?.length || Object.keys(selection.labels ?? {}).length)
      ? new Set(selectNodes(d.store, selection).map((n) => n.id))
      : undefined;
  return d.repo
    .accounts()
    .filter((r) => !picked || picked.has(r.nodeId))
    .map((r) => {
      const node = d.store.nodes.get(r.nodeId);
      const current = d.repo.current(r);
      const due = dueOf(d, r, node);
      return {
        nodeId: r.nodeId,
        backend: r.backend,
        account: r.account,
        setAt: current?.setAt ?? null,
        setBy: current?.setBy ?? '',
        versions: d.repo.versionsKept(r),
        lastRevealed: r.lastRevealed,
        nextRotation: due?.at.toISOString() ?? null,
        rotationReason: due?.reason ?? '',
        rotationClass: classify(d.config, node, r.backend, r.account).name,
        lastRotationAt: r.lastRotationAt,
        lastRotationOutcome: r.lastRotationOutcome,
        inFlight: d.repo.inFlight(r),
      };
    });
}
