import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ESCROW_KEY_ENV, keyCheckOf, keyMatches, loadMasterKey } from './master-key';

const dir = mkdtempSync(join(tmpdir(), 'fp-escrow-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('escrow master key', () => {
  it('creates a 0600 key file when allowed, and reads the same key back', () => {
    const file = join(dir, 'sub', 'escrow.key');
    const made = loadMasterKey({ keyFile: file, env: {}, mayCreate: true });
    expect(made.created).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    const again = loadMasterKey({ keyFile: file, env: {}, mayCreate: false });
    expect(again).toMatchObject({ created: false, keyId: made.keyId, source: file });
    expect(again.key.equals(made.key)).toBe(true);
  });

  it('refuses to create one when escrow exists, and takes the environment first', () => {
    const file = join(dir, 'absent.key');
    expect(() => loadMasterKey({ keyFile: file, env: {}, mayCreate: false })).toThrow(
      expect.objectContaining({ code: 'FP_ESCROW_KEY_MISSING' }),
    );
    const key = randomBytes(32);
    expect(
      loadMasterKey({ keyFile: file, env: { [ESCROW_KEY_ENV]: key.toString('base64') }, mayCreate: false }),
    ).toMatchObject({ source: ESCROW_KEY_ENV, created: false });
    expect(() => loadMasterKey({ keyFile: file, env: { [ESCROW_KEY_ENV]: 'c2hvcnQ=' }, mayCreate: false })).toThrow(
      expect.objectContaining({ code: 'FP_ESCROW_KEY_INVALID' }),
    );
  });

  it('refuses a key file others can read or of the wrong size', () => {
    const loose = join(dir, 'loose.key');
    writeFileSync(loose, randomBytes(32).toString('base64'));
    chmodSync(loose, 0o640);
    expect(() => loadMasterKey({ keyFile: loose, env: {}, mayCreate: false })).toThrow(
      expect.objectContaining({ code: 'FP_ESCROW_KEY_INVALID' }),
    );
    const short = join(dir, 'short.key');
    writeFileSync(short, randomBytes(16).toString('base64'), { mode: 0o600 });
    expect(() => loadMasterKey({ keyFile: short, env: {}, mayCreate: false })).toThrow(
      expect.objectContaining({ code: 'FP_ESCROW_KEY_INVALID' }),
    );
  });

  it('the check value tells the right key from a wrong one', () => {
    const key = randomBytes(32);
    const meta = { keyId: 'x', keyCheck: keyCheckOf(key) };
    expect(keyMatches(meta, key)).toBe(true);
    expect(keyMatches(meta, randomBytes(32))).toBe(false);
    expect(keyMatches({ keyId: 'x', keyCheck: Buffer.alloc(3) }, key)).toBe(false);
  });
});
