import { randomBytes } from 'node:crypto';
import { openSecret, rewrapKey, sealSecret } from './envelope';

const binding = { nodeId: 'n1', backend: 1, account: 'ilmnuser', version: 3 };

describe('envelope encryption', () => {
  const master = randomBytes(32);

  it('seals a password that only the same master key and binding open', () => {
    const s = sealSecret(master, 'Ilmn-user-pw-9!', binding);
    expect(s.ciphertext.includes(Buffer.from('Ilmn-user-pw-9!'))).toBe(false);
    expect(s.wrappedKey).toHaveLength(32);
    expect(openSecret(master, s, binding)).toBe('Ilmn-user-pw-9!');
    expect(() => openSecret(randomBytes(32), s, binding)).toThrow(
      expect.objectContaining({ code: 'FP_ESCROW_UNREADABLE' }),
    );
    for (const other of [{ nodeId: 'n2' }, { backend: 2 }, { account: 'ilmnadmin' }, { version: 4 }]) {
      expect(() => openSecret(master, s, { ...binding, ...other })).toThrow(
        expect.objectContaining({ code: 'FP_ESCROW_UNREADABLE' }),
      );
    }
  });

  it('uses a new data key and IVs for every seal', () => {
    const a = sealSecret(master, 'same', binding);
    const b = sealSecret(master, 'same', binding);
    expect(a.wrappedKey.equals(b.wrappedKey)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
  });

  it('detects a changed byte', () => {
    const s = sealSecret(master, 'Ilmn-user-pw-9!', binding);
    const bad = { ...s, ciphertext: Buffer.from(s.ciphertext) };
    bad.ciphertext[0] ^= 1;
    expect(() => openSecret(master, bad, binding)).toThrow(expect.objectContaining({ code: 'FP_ESCROW_UNREADABLE' }));
  });

  it('re-wraps the data key under a new master key without touching the sealed password', () => {
    const s = sealSecret(master, 'Ilmn-user-pw-9!', binding);
    const next = randomBytes(32);
    const w = rewrapKey(master, next, s, binding);
    const moved = { ...s, ...w };
    expect(openSecret(next, moved, binding)).toBe('Ilmn-user-pw-9!');
    expect(() => openSecret(master, moved, binding)).toThrow(expect.objectContaining({ code: 'FP_ESCROW_UNREADABLE' }));
    expect(() => rewrapKey(randomBytes(32), next, s, binding)).toThrow(
      expect.objectContaining({ code: 'FP_ESCROW_UNREADABLE' }),
    );
  });
});
