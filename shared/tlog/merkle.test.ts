import { createHash } from 'node:crypto';
import { MerkleFrontier, consistencyProof, treeHash, verifyConsistency } from './merkle';

const leaf = (i: number, salt = '') => createHash('sha256').update(`leaf ${i}${salt}`).digest();
const leaves = (n: number, salt = '') => Array.from({ length: n }, (_, i) => leaf(i, salt));

describe('merkle tree (RFC 9162)', () => {
  it('the frontier gives the same head as the recursive definition at every size', () => {
    const all = leaves(70);
    const f = new MerkleFrontier();
    expect(f.root()).toEqual(treeHash([]));
    for (let n = 1; n <= all.length; n++) {
      f.append(all[n - 1]);
      expect(f.root()).toEqual(treeHash(all, 0, n));
    }
  });

  it('reports each perfect subtree it completes', () => {
    const seen: string[] = [];
    const f = new MerkleFrontier((size, index) => seen.push(`${size}@${index}`));
    for (const l of leaves(8)) f.append(l);
    expect(seen).toEqual(['2@0', '2@1', '4@0', '2@2', '2@3', '4@1', '8@0']);
  });

  it('consistency proofs verify for every pair of sizes, and fail for a rewritten prefix', () => {
    const all = leaves(40);
    const other = leaves(40, 'x');
    const sub = (a: number, b: number) => treeHash(all, a, b);
    for (let n = 1; n <= all.length; n++) {
      const second = treeHash(all, 0, n);
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(m, n, sub);
        expect(proof.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n)) + 1);
        expect(verifyConsistency(m, n, treeHash(all, 0, m), second, proof)).toBe(true);
        // A witness that saw a different history of size m is not convinced.
        const rewritten = [...other.slice(0, 1), ...all.slice(1, m)];
        expect(verifyConsistency(m, n, treeHash(rewritten, 0, m), second, proof)).toBe(false);
      }
    }
  });

  it('refuses a shrinking tree and a proof with a changed hash', () => {
    const all = leaves(20);
    const sub = (a: number, b: number) => treeHash(all, a, b);
    expect(verifyConsistency(10, 9, treeHash(all, 0, 10), treeHash(all, 0, 9), [])).toBe(false);
    const proof = consistencyProof(7, 20, sub);
    proof[1] = leaf(99);
    expect(verifyConsistency(7, 20, treeHash(all, 0, 7), treeHash(all, 0, 20), proof)).toBe(false);
  });
});
