import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../store';
import { createOperatorsRepo, type OperatorsRepo } from '../store/operators-repo';
import { checkApiToken, issueApiToken, tokenId } from './api-tokens';
import { tokenSecret } from '../../test/helpers/token-secret';

let dir: string;
let db: Db;
let repo: OperatorsRepo;
const now = new Date('2026-03-01T00:00:00Z');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fp-tokens-'));
  db = openDatabase(join(dir, 'fp.db'));
  repo = createOperatorsRepo(db);
  repo.insert('otto', 'operator', 'test', now.toISOString());
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('API tokens', () => {
  it('are random, shown once, and stored as a salted HMAC only', () => {
    const a = issueApiToken(repo, 'otto', { createdBy: 'admin', ttlSeconds: 3600, now });
    const b = issueApiToken(repo, 'otto', { createdBy: 'admin', ttlSeconds: 3600, now });
    expect(a.token).not.toBe(b.token);
    expect(tokenId(a.token)).toBe(a.id);
    const row = repo.getToken(a.id)!;
    expect(row.hash).toHaveLength(32);
    expect(row.salt).toHaveLength(16);
    expect(row.salt.equals(repo.getToken(b.id)!.salt)).toBe(false);
    expect(JSON.stringify(db.prepare('SELECT * FROM api_tokens').all())).not.toContain(tokenSecret(a.token));
    expect(row.expires).toBe('2026-03-01T01:00:00.000Z');
  });

  it('checks the secret, the expiry and revocation', () => {
    const t = issueApiToken(repo, 'otto', { createdBy: 'admin', ttlSeconds: 3600, now });
    expect(checkApiToken(repo, t.token, now)).toEqual({ ok: true, operator: 'otto', id: t.id });
    expect(repo.getToken(t.id)!.lastUsed).toBe(now.toISOString());
    const other = `${t.token.slice(0, -1)}${t.token.endsWith('A') ? 'B' : 'A'}`;
    expect(checkApiToken(repo, other, now)).toEqual({ ok: false, id: t.id, why: 'mismatch' });
    expect(checkApiToken(repo, `fpt_${'f'.repeat(16)}_${'A'.repeat(43)}`, now)).toMatchObject({
      ok: false,
      why: 'unknown',
    });
    expect(checkApiToken(repo, 'hello', now)).toEqual({ ok: false, why: 'malformed' });
    expect(checkApiToken(repo, t.token, new Date(now.getTime() + 3600_000))).toMatchObject({
      ok: false,
      why: 'expired',
    });
    repo.revokeTokensOf('otto');
    expect(checkApiToken(repo, t.token, now)).toMatchObject({ ok: false, why: 'revoked' });
  });
});
