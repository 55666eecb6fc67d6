/** Operators and their API tokens (schema versions 3, 6, 9): rows only; the rules live in controller/service. */
import type { Db } from './database';

export type OperatorRole = 'viewer' | 'operator' | 'approver' | 'admin';

export interface OperatorRecord {
  name: string;
  role: OperatorRole;
  disabled: boolean;
  created: string;
  createdBy: string;
  updated: string;
  /** The identity provider's issuer and subject, for operators who sign in through it. */
  idpIssuer: string | null;
  idpSubject: string | null;
  /** The provider's display name ('' for operators made by hand). */
  displayName: string;
  /** Where the role came from: 'assigned' (an admin, the bootstrap) or 'group:<name>' (auth.oidc.groupRoles). */
  roleSource: string;
}

/** 'session': obtained by `fleetpass login` through the identity provider; 'api': made by hand. */
export type ApiTokenKind = 'api' | 'session';

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
  kind: ApiTokenKind;
}

interface OperatorRow {
  name: string;
  role: OperatorRole;
  disabled: number;
  created: string;
  created_by: string;
  updated: string;
  idp_issuer: string | null;
  idp_subject: string | null;
  display_name: string;
  role_source: string;
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
  kind: ApiTokenKind;
}

const toOperator = (r: OperatorRow): OperatorRecord => ({
  name: r.name,
  role: r.role,
  disabled: r.disabled === 1,
  created: r.created,
  createdBy: r.created_by,
  updated: r.updated,
  idpIssuer: r.idp_issuer,
  idpSubject: r.idp_subject,
  displayName: r.display_name,
  roleSource: r.role_source,
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
  kind: r.kind,
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
  const setRoleEnabled = db.prepare(
    "UPDATE operators SET role = ?, role_source = 'assigned', disabled = 0, updated = ? WHERE name = ?",
  );
  const getByIdentity = db.prepare<[string, string], OperatorRow>(
    'SELECT * FROM operators WHERE idp_issuer = ? AND idp_subject = ?',
  );
  const insertFromProvider = db.prepare(
    'INSERT INTO operators (name, role, disabled, created, created_by, updated, idp_issuer, idp_subject, display_name, role_source) VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?)',
  );
  const setProviderRole = db.prepare(
    'UPDATE operators SET role = ?, role_source = ?, display_name = ?, updated = ? WHERE name = ?',
  );
  const revokeSessionTokensOf = db.prepare(
    "UPDATE api_tokens SET revoked = 1 WHERE operator = ? AND kind = 'session' AND revoked = 0",
  );
  const revokeToken = db.prepare('UPDATE api_tokens SET revoked = 1 WHERE id = ? AND revoked = 0');
  const setDisabled = db.prepare('UPDATE operators SET disabled = ?, updated = ? WHERE name = ?');
  const countAdmins = db.prepare<[], { n: number }>(
    "SELECT count(*) AS n FROM operators WHERE role = 'admin' AND disabled = 0",
  );
  const getToken = db.prepare<[string], TokenRow>('SELECT * FROM api_tokens WHERE id = ?');
  const tokensOf = db.prepare<[string], TokenRow>('SELECT * FROM api_tokens WHERE operator = ? ORDER BY created');
  const insertToken = db.prepare(
    'INSERT INTO api_tokens (id, operator, salt, hash, created, created_by, expires, known_to_json, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
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
    insertToken(t: Omit<ApiTokenRecord, 'lastUsed' | 'revoked' | 'kind'> & { kind?: ApiTokenKind }): void {
      insertToken.run(
        t.id,
        t.operator,
        t.salt,
        t.hash,
        t.created,
        t.createdBy,
        t.expires,
        JSON.stringify([...new Set(t.knownTo)]),
        t.kind ?? 'api',
      );
    },
    touchToken(id: string, now: string): void {
      touchToken.run(now, id);
    },
    revokeTokensOf: (operator: string): number => revokeTokensOf.run(operator).changes,
    revokeSessionTokensOf: (operator: string): number => revokeSessionTokensOf.run(operator).changes,
    revokeToken: (id: string): boolean => revokeToken.run(id).changes === 1,
    /** The operator an identity provider's user is, by issuer and subject. */
    getByIdentity: (issuer: string, subject: string): OperatorRecord | undefined => {
      const r = getByIdentity.get(issuer, subject);
      return r ? toOperator(r) : undefined;
    },
    insertFromProvider(o: {
      name: string;
      role: OperatorRole;
      roleSource: string;
      issuer: string;
      subject: string;
      displayName: string;
      now: string;
    }): void {
      insertFromProvider.run(
        o.name,
        o.role,
        o.now,
        `oidc:${o.issuer}`,
        o.now,
        o.issuer,
        o.subject,
        o.displayName,
        o.roleSource,
      );
    },
    /** The role a sign-in's group mapping gives, where it came from, and the provider's current display name. */
    setProviderRole(name: string, role: OperatorRole, roleSource: string, displayName: string, now: string): void {
      setProviderRole.run(role, roleSource, displayName, now, name);
    },
  };
}
