import { parsePinnedFingerprint, splitAddress } from './pinned-ca';
import { renewalDue } from './renewal';

describe('enrollment input', () => {
  it('normalizes a pinned fingerprint and refuses anything else', () => {
    const hex = 'ab'.repeat(32);
    expect(parsePinnedFingerprint(`sha256:${hex}`)).toBe(`sha256:${hex}`);
    expect(parsePinnedFingerprint(` SHA256:${hex.toUpperCase().match(/../g)!.join(':')} `)).toBe(`sha256:${hex}`);
    for (const bad of ['', hex, `sha1:${hex}`, `sha256:${hex}00`, `sha256:${'zz'.repeat(32)}`]) {
      expect(() => parsePinnedFingerprint(bad)).toThrow(expect.objectContaining({ code: 'FP_INVALID_ARGUMENT' }));
    }
  });

  it('splits host:port and bracketed IPv6', () => {
    expect(splitAddress('fp.example.org:7443')).toEqual({ host: 'fp.example.org', port: 7443 });
    expect(splitAddress('[::1]:7443')).toEqual({ host: '::1', port: 7443 });
    for (const bad of ['fp.example.org', ':7443', 'h:0', 'h:70000'])
      expect(() => splitAddress(bad)).toThrow(/HOST:PORT/);
  });

  it('renews when a third of the lifetime is left', () => {
    expect(renewalDue({ notBefore: 0, notAfter: 90 })).toBe(60);
  });
});
