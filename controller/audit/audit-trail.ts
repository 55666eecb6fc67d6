/**
 * The controller's side of the signed audit trail: it keeps the Merkle tree of the log in memory (built by
 * the start-up walk, extended from committed rows), signs a checkpoint (size, tree head, time) soon after
 * records are written, stores it in the audit_signed_checkpoints table and the checkpoint file, and holds
 * the log's integrity: the last whole walk against every signed checkpoint it knows (its own and the
 * witnesses'). While that is broken, nothing new is signed (a checkpoint never covers damage) and the
 * integrations gate refuses every append with FP_AUDIT_INTEGRITY.
 */
import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import { MerkleFrontier } from '../../shared/tlog/merkle';
import { openCheckpoint, signCheckpoint, type SignedCheckpoint } from '../../shared/tlog/signed-checkpoint';
import type { Db } from '../store/database';
import type { AuditLog, AuditRecord } from './audit-log';
import { GENESIS_HASH } from './canonical';
import { appendCheckpointLine, createSignedCheckpointStore, type StoredNote } from './signed-checkpoint-store';
import type { SigningKey } from './signing-key';
import { verifyAudit, type VerifyResult } from './verify';

export interface AuditTrailDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  signing: SigningKey;
  checkpointFile: string;
  /** How soon after a write the checkpoint covering it is signed (default 1000 ms). */
  checkpointDelayMs?: number;
  /** Called when a problem is found outside a whole walk (so health and the gate re-check at once). */
  onProblem?: (problem: string) => void;
}

export interface Integrity {
  ok: boolean;
  problem: string;
  /** The first record affected (0 when ok or unknown). */
  brokenAt: number;
}

export interface AuditTrail {
  /**
   * The whole walk against every signed checkpoint and witness claim; rebuilds the tree. `reuseMs`: a
   * verdict at most this old (and no problem since) is returned as it is (the start-up check and the first
   * health check come within moments of each other).
   */
  verify(reuseMs?: number): VerifyResult;
  /** The last walk's verdict, or a problem found since (cheap). */
  integrity(): Integrity;
  /** The same log, with a checkpoint scheduled after every append. */
  watch(audit: AuditLog): AuditLog;
  /** Signs a checkpoint of the committed log now (undefined while the log's integrity is broken). */
  checkpointNow(): SignedCheckpoint | undefined;
  newest(): SignedCheckpoint | undefined;
  /** A signed checkpoint reported by a witness: kept as a claim the log must agree with. */
  witnessed(note: StoredNote): void;
  /** The signed checkpoint of exactly a record's size, if one was taken (shipped to the sinks). */
  checkpointFor(record: AuditRecord): Record<string, unknown> | undefined;
  /** The tree as the last checkpoint or walk saw it. */
  tree(): MerkleFrontier;
  stop(): void;
}

export function createAuditTrail(d: AuditTrailDeps): AuditTrail {
  const store = createSignedCheckpointStore(d.db);
  const { verifier, privateKey } = d.signing;
  const tail = d.db.prepare('SELECT seq, prev_hash, hash FROM audit_log WHERE seq > ? ORDER BY seq').raw(true);
  const witnesses = new Map<string, StoredNote>();
  let tree = new MerkleFrontier();
  let lastHash = GENESIS_HASH;
  let walked: { at: number; result: VerifyResult } | undefined;
  let found: Integrity | undefined;
  let newest: SignedCheckpoint | undefined;
  let timer: NodeJS.Timeout | undefined;

  const stored = store.newest();
  if (stored) {
    const o = openCheckpoint(stored.note, verifier);
    if (o.ok) newest = o.checkpoint;
  }

  function verify(reuseMs = 0): VerifyResult {
    if (walked && Date.now() - walked.at < reuseMs && !found) return walked.result;
    const t = new MerkleFrontier();
    const result = verifyAudit(d.db, {
      checkpointFile: d.checkpointFile,
      verifier,
      witnessed: [...witnesses.values()],
      tree: t,
    });
    walked = { at: Date.now(), result };
    found = undefined;
    if (result.ok) {
      tree = t;
      lastHash = result.headHash;
    } else d.log.error({ code: 'FP_AUDIT_INTEGRITY', problem: result.problem }, 'audit log integrity lost');
    return result;
  }

  function integrity(): Integrity {
    if (found) return found;
    const r = walked?.result ?? verify();
    return { ok: r.ok, problem: r.problem, brokenAt: r.brokenAt };
  }

  function problem(p: string, brokenAt: number): undefined {
    found = { ok: false, problem: p, brokenAt };
    d.log.error({ code: 'FP_AUDIT_INTEGRITY', problem: p }, 'audit log integrity lost');
    d.onProblem?.(p);
    return undefined;
  }

  /** Extends the tree from committed rows; false when they do not continue it. */
  function extend(): boolean {
    for (const [seq, prevHash, hash] of tail.iterate(tree.size) as IterableIterator<[number, string, string]>) {
      if (seq !== tree.size + 1) {
        problem(`record ${tree.size + 1} is missing (the next record present is ${seq})`, tree.size + 1);
        return false;
      }
      if (prevHash !== lastHash) {
        problem(`record ${seq} does not link to record ${seq - 1} (prev_hash differs)`, seq);
        return false;
      }
      tree.append(Buffer.from(hash, 'hex'));
      lastHash = hash;
    }
    return true;
  }

  function checkpointNow(): SignedCheckpoint | undefined {
    if (!integrity().ok || !extend()) return undefined;
    if (newest && tree.size < newest.size)
      return problem(
        `records ${tree.size + 1} to ${newest.size} are missing: the signed checkpoint taken at ${newest.time} covered ${newest.size} records`,
        tree.size + 1,
      );
    if (newest && newest.size === tree.size) return newest;
    const cp = signCheckpoint(
      { origin: verifier.name, size: tree.size, root: tree.root(), time: d.clock.now().toISOString() },
      privateKey,
      verifier,
    );
    try {
      d.db.transaction(() => store.insert(cp)).immediate();
      appendCheckpointLine(d.checkpointFile, {
        time: cp.time,
        size: cp.size,
        root: cp.root.toString('hex'),
        note: cp.note,
      });
    } catch (err) {
      d.log.error({ err, size: cp.size }, 'cannot store the signed audit checkpoint');
      return undefined;
    }
    newest = cp;
    return cp;
  }

  function schedule(): void {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (!d.db.open) return; // closed without a shutdown (a failed start, a test): nothing to sign
      try {
        checkpointNow();
      } catch (err) {
        d.log.error({ err }, 'cannot take the signed audit checkpoint');
      }
    }, d.checkpointDelayMs ?? 1000);
    timer.unref();
  }

  return {
    verify,
    integrity,
    watch: (audit) => ({
      ...audit,
      append(entry) {
        const rec = audit.append(entry);
        schedule();
        return rec;
      },
    }),
    checkpointNow,
    newest: () => newest,
    witnessed(note) {
      witnesses.set(note.source, note);
    },
    checkpointFor(record) {
      const note = store.atSize(record.seq);
      return note ? { size: record.seq, note } : undefined;
    },
    tree: () => tree,
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
