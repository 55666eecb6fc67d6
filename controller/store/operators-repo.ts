/** Operators and their API tokens (schema version 3): rows only; the rules live in controller/service. */
import type { Db } from './database';

export type OperatorRole = 'viewer' | 'operator' | 'approver' | 'admin';

export interface OperatorRecord {
  name: string;
  role: OperatorRole;
  disabled: boolean;
  created: string;
  createdBy: string;
  updated: string;
}

export interface ApiTokenRecord {
  id: string;
  operator: string;
  salt: Buffer;
  hash: Buffer;
  created: string;
  createdBy: string;
  expires: string | null;
  lastUsed: string | null;
  revoked: boolean;
  /** Operators who could have seen the token when it was made (owner, maker, holders of the maker's credential). */
  knownTo: string[];
}

interface OperatorRow {
  name: string;
  role: OperatorRole;
  disabled: number;
  created: string;
  created_by: string;
  updated: string;
}

interface TokenRow {
  id: string;
  operator: string;
  salt: Buffer;
  hash: Buffer;
  created: string;
  created_by: string;
  expires: string | null;
  last_used: string | null;
  revoked: number;
  known_to_json: string;
}

const toOperator = (r: OperatorRow): OperatorRecord => ({
  name: r.name,
  role: r.role,
  disabled: r.disabled === 1,
  created: r.created,
  createdBy: r.created_by,
  updated: r.updated,
});

const toToken = (r: TokenRow): ApiTokenRecord => ({
  id: r.id,
  operator: r.operator,
  salt: r.salt,
  hash: r.hash,
  created: r.created,
  createdBy: r.created_by,
  expires: r.expires,
  lastUsed: r.last_used,
  revoked: r.revoked === 1,
  knownTo: knownTo(r),
});

/** Tokens from before schema 6 recorded no holders: their owner and maker are the ones known. */
function knownTo(r: TokenRow): string[] {
  const list = JSON.parse(r.known_to_json || '[]') as string[];
  return list.length ? list : [...new Set([r.operator, r.created_by])];
}

export type OperatorsRepo = ReturnType<typeof createOperatorsRepo>;

/** Prepared statements over operators and api_tokens. */
export function createOperatorsRepo(db: Db) {
  const get = db.prepare<[string], OperatorRow>('SELECT * FROM operators WHERE name = ?');
  const list = db.prepare<[], OperatorRow>('SELECT * FROM operators ORDER BY name');
  const insert = db.prepare(
    'INSERT INTO operators (name, role, disabled, created, created_by, updated) VALUES (?, ?, 0, ?, ?, ?)',
  );
  const setRoleEnabled = db.prepare('UPDATE operators SET role = ?, disabled = 0, updated = ? WHERE name = ?');
  const setDisabled = db.prepare('UPDATE operators SET disabled = ?, updated = ? WHERE name = ?');
  const countAdmins = db.prepare<[], { n: number }>(
    "SELECT count(*) AS n FROM operators WHERE role = 'admin' AND disabled = 0",
  );
  const getToken = db.prepare<[string], TokenRow>('SELECT * FROM api_tokens WHERE id = ?');
  const tokensOf = db.prepare<[string], TokenRow>('SELECT * FROM api_tokens WHERE operator = ? ORDER BY created');
  const insertToken = db.prepare(
    'INSERT INTO api_tokens (id, operator, salt, hash, created, created_by, expires, known_to_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const touchToken = db.prepare('UPDATE api_tokens SET last_used = ? WHERE id = ?');
  const revokeTokensOf = db.prepare('UPDATE api_tokens SET revoked = 1 WHERE operator = ? AND revoked = 0');

  return {
    get: (name: string): OperatorRecord | undefined => {
      const r = get.get(name);
      return r ? toOperator(r) : undefined;
    },
    list: (): OperatorRecord[] => list.all().map(toOperator),
    insert(name: string, role: OperatorRole, createdBy: string, now: string): void {
      insert.run(name, role, now, createdBy, now);
    },
    /** Used by a forced bootstrap: makes an existing operator an enabled admin again. */
    setRoleEnabled(name: string, role: OperatorRole, now: string): void {
      setRoleEnabled.run(role, now, name);
    },
    setDisabled(name: string, disabled: boolean, now: string): boolean {
      return setDisabled.run(disabled ? 1 : 0, now, name).changes === 1;
    },
    /** Enabled admins. */
    adminCount: (): number => countAdmins.get()!.n,
    getToken: (id: string): ApiTokenRecord | undefined => {
      const r = getToken.get(id);
      return r ? toToken(r) : undefined;
    },
    tokensOf: (operator: string): ApiTokenRecord[] => tokensOf.all(operator).map(toToken),
    insertToken(t: Omit<ApiTokenRecord, 'lastUsed' | 'revoked'>): void {
      insertToken.run(
        t.id,
        t.operator,
        t.salt,
        t.hash,
        t.created,
        t.createdBy,
        t.expires,
        JSON.stringify([...new Set(t.knownTo)]),
      );
    },
    touchToken(id: string, now: string): void {
      touchToken.run(now, id);
    },
    revokeTokensOf: (operator: string): number => revokeTokensOf.run(operator).changes,
  };
}
