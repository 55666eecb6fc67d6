/**
 * The audit log's Merkle tree, RFC 9162 (Certificate Transparency v2) section 2.1: tree heads, an
 * incremental frontier that appends a leaf in amortised one hash, and consistency proofs with their
 * verification, so a witness that saw a tree of size m checks in O(log n) hashes that the tree of size n it
 * is shown now extends it. Shared by the controller (which builds the tree and the proofs) and the agent
 * (which verifies them as a witness).
 *
 * Leaves: the leaf hash of an audit record is its chain hash, SHA-256 over its canonical encoding
 * (controller/audit/canonical.ts). That encoding starts with "[" (0x5b) and an interior node's input with
 * 0x01, so leaves and nodes are domain-separated as RFC 9162's 0x00 prefix does, without a second hash
 * per record. Interior node = SHA-256(0x01 || left || right); the empty tree's head is SHA-256("").
 */
import { createHash } from 'node:crypto';

export const HASH_BYTES = 32;
const NODE_PREFIX = Buffer.from([1]);
export const EMPTY_TREE_HASH: Buffer = createHash('sha256').digest();

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** The largest power of two smaller than n (n > 1). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The head of a whole tree given all its leaf hashes (for tests and small ranges). */
export function treeHash(leaves: readonly Buffer[], from = 0, to = leaves.length): Buffer {
  const n = to - from;
  if (n === 0) return EMPTY_TREE_HASH;
  if (n === 1) return leaves[from];
  const k = splitPoint(n);
  return nodeHash(treeHash(leaves, from, from + k), treeHash(leaves, from + k, to));
}

/**
 * The right edge of a growing tree: the heads of its perfect subtrees, largest first. Appending is a
 * binary-counter carry (one hash per leaf on average); the head folds the edge (log n hashes).
 */
export class MerkleFrontier {
  private readonly edge: Array<{ size: number; hash: Buffer }> = [];
  private count = 0;
  /** `onCompleted` sees every perfect subtree the carry completes (index = its first leaf / its size). */
  constructor(private readonly onCompleted?: (size: number, index: number, hash: Buffer) => void) {}

  get size(): number {
    return this.count;
  }

  append(leaf: Buffer): void {
    let node = { size: 1, hash: leaf };
    this.count++;
    while (this.edge.length && this.edge[this.edge.length - 1].size === node.size) {
      const left = this.edge.pop()!;
      node = { size: node.size * 2, hash: nodeHash(left.hash, node.hash) };
      this.onCompleted?.(node.size, (this.count - node.size) / node.size, node.hash);
    }
    this.edge.push(node);
  }

  root(): Buffer {
    if (this.edge.length === 0) return EMPTY_TREE_HASH;
    let h = this.edge[this.edge.length - 1].hash;
    for (let i = this.edge.length - 2; i >= 0; i--) h = nodeHash(this.edge[i].hash, h);
    return h;
  }
}

/** Gives the head of the subtree over leaves [from, to) of the current tree. */
export type SubtreeHash = (from: number, to: number) => Buffer;

/** RFC 9162 2.1.4.1: the consistency proof from the tree of size m to the tree of size n (0 < m <= n). */
export function consistencyProof(m: number, n: number, subtree: SubtreeHash): Buffer[] {
  if (!(m > 0 && m <= n)) throw new RangeError(`no consistency proof from size ${m} to size ${n}`);
  const proof: Buffer[] = [];
  const sub = (m: number, from: number, to: number, complete: boolean): void => {
    const n = to - from;
    if (m === n) {
      if (!complete) proof.push(subtree(from, to));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, from, from + k, complete);
      proof.push(subtree(from + k, to));
    } else {
      sub(m - k, from + k, to, false);
      proof.push(subtree(from, from + k));
    }
  };
  sub(m, 0, n, true);
  return proof;
}

/**
 * RFC 9162 2.1.4.2: does the tree (n, secondRoot) extend the tree (m, firstRoot)? Pure and bounded
 * (O(log n) hashes); m = n needs equal roots and an empty proof, m = 0 is consistent with anything.
 */
export function verifyConsistency(
  m: number,
  n: number,
  firstRoot: Buffer,
  secondRoot: Buffer,
  proof: readonly Buffer[],
): boolean {
  if (m < 0 || n < m || !Number.isSafeInteger(n)) return false;
  if (m === 0) return proof.length === 0;
  if (m === n) return proof.length === 0 && firstRoot.equals(secondRoot);
  const path = [...proof];
  if ((m & (m - 1)) === 0) path.unshift(firstRoot);
  if (path.length === 0) return false;
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}
