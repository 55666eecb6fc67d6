import { X509Certificate } from 'node:crypto';
import {
  PREFIXED_SHA256_FINGERPRINT,
  SHA256_FINGERPRINT,
  certificateFingerprint,
  createCa,
  formatFingerprint,
  normalizeFingerprint,
} from '.';

describe('certificate fingerprints', () => {
  const hex = 'ab'.repeat(32);
  const colonUpper = hex.toUpperCase().match(/../g)!.join(':');

  it('normalises every accepted spelling to sha256:<lower-case hex>', () => {
    expect(normalizeFingerprint(`sha256:${hex}`)).toBe(`sha256:${hex}`);
    expect(normalizeFingerprint(colonUpper)).toBe(`sha256:${hex}`);
    expect(normalizeFingerprint(`SHA256:${colonUpper}`)).toBe(`sha256:${hex}`);
  });

  it('formats Node fingerprint256 as the pinned form', async () => {
    const ca = await createCa();
    const colon = new X509Certificate(ca.certPem).fingerprint256;
    expect(colon).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(formatFingerprint(colon)).toBe(certificateFingerprint(ca.certPem));
    expect(formatFingerprint(colon)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('config pattern: prefix optional (lower case), 64 hex digits, colons between bytes', () => {
    for (const ok of [hex, `sha256:${hex}`, colonUpper, `sha256:${colonUpper}`])
      expect(SHA256_FINGERPRINT.test(ok)).toBe(true);
    for (const bad of [
      '',
      `SHA256:${hex}`,
      `sha1:${hex}`,
      `${hex}00`,
      hex.slice(2),
      'zz'.repeat(32),
      `sha256:sha256:${hex}`,
      `a:b${hex.slice(3)}`,
    ]) {
      expect(SHA256_FINGERPRINT.test(bad)).toBe(false);
    }
  });

  it('pinned pattern: prefix required in any case', () => {
    for (const ok of [`sha256:${hex}`, `SHA256:${colonUpper}`]) expect(PREFIXED_SHA256_FINGERPRINT.test(ok)).toBe(true);
    for (const bad of ['', hex, colonUpper, `sha1:${hex}`, `sha256:${hex}00`, `sha256:sha256:${hex}`])
      expect(PREFIXED_SHA256_FINGERPRINT.test(bad)).toBe(false);
  });
});
