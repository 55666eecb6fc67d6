import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../store/database';
import { createSecretVault, loadOrCreateSecretKey } from './secret-vault';

describe('secret vault', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fp-vault-'));
    db = openDatabase(join(dir, 'v.db'));
    // pending_secrets references operations; these unit tests exercise the vault alone.
    db.pragma('foreign_keys = OFF');
  });
  afterEach(() => db.close());

  it('creates a 32-byte key with mode 0600 once and reads the same key back', () => {
    const file = join(dir, 'secrets.key');
    const a = loadOrCreateSecretKey(file, true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    const b = loadOrCreateSecretKey(file, true);
    expect(b.keyId).toBe(a.keyId);
    expect(b.key.equals(a.key)).toBe(true);
  });

  it('seals, opens and erases; the stored bytes are not the secret', () => {
    const vault = createSecretVault(db, loadOrCreateSecretKey(join(dir, 'k'), true));
    vault.seal('op-1', 'Correct-Horse-9', new Date());
    const row = db.prepare('SELECT * FROM pending_secrets').get() as { ciphertext: Buffer; iv: Buffer; tag: Buffer };
    expect(row.ciphertext.toString('utf8')).not.toContain('Correct-Horse-9');
    expect(row.iv).toHaveLength(12);
    expect(row.tag).toHaveLength(16);
    expect(vault.open('op-1')).toBe('Correct-Horse-9');
    expect(vault.erase('op-1')).toBe(true);
    expect(vault.open('op-1')).toBeUndefined();
  });

  it('will not open a sealed secret moved to another operation or opened with another key', () => {
    const key = loadOrCreateSecretKey(join(dir, 'k1'), true);
    const vault = createSecretVault(db, key);
    vault.seal('op-a', 'Secret-For-A-1', new Date());
    db.prepare("UPDATE pending_secrets SET operation_id = 'op-b' WHERE operation_id = 'op-a'").run();
    expect(() => vault.open('op-b')).toThrow(expect.objectContaining({ code: 'FP_KEY_INVALID' }));
    vault.seal('op-c', 'Secret-For-C-1', new Date());
    const other = createSecretVault(db, loadOrCreateSecretKey(join(dir, 'k2'), true));
    expect(() => other.open('op-c')).toThrow(expect.objectContaining({ code: 'FP_KEY_INVALID' }));
    expect(other.census()).toEqual({ total: 2, foreignKey: 2 });
  });

  it('refuses a key readable by others, a damaged key, and a missing key when secrets are sealed', () => {
    const file = join(dir, 'secrets.key');
    loadOrCreateSecretKey(file, true);
    chmodSync(file, 0o644);
    expect(() => loadOrCreateSecretKey(file, true)).toThrow(/readable by group or others/);
    writeFileSync(file, 'c2hvcnQ=\n', { mode: 0o600 });
    chmodSync(file, 0o600);
    expect(() => loadOrCreateSecretKey(file, true)).toThrow(/not a 32-byte base64 key/);
    expect(() => loadOrCreateSecretKey(join(dir, 'absent.key'), false)).toThrow(
      expect.objectContaining({ code: 'FP_KEY_INVALID', message: expect.stringContaining('restore the key file') }),
    );
    expect(existsSync(join(dir, 'absent.key'))).toBe(false);
  });
});
