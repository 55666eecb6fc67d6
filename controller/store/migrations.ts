/**
 * Versioned schema migrations. Each entry moves the database from version N-1 to N and runs in one
 * transaction together with the `PRAGMA user_version` bump, so a crash leaves either the old or the new
 * schema. Append new migrations; never edit a released one.
 */

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Triggers that make a table append-only: any UPDATE or DELETE aborts the statement. */
function appendOnly(table: string): string {
  return `
CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table}
BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;
CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;`;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'inventory and audit log',
    sql: `
CREATE TABLE nodes (
  id TEXT PRIMARY KEY,
  hostname TEXT NOT NULL DEFAULT '',
  platform TEXT NOT NULL DEFAULT '',
  labels_json TEXT NOT NULL DEFAULT '{}',
  agent_version TEXT NOT NULL DEFAULT '',
  backends_json TEXT NOT NULL DEFAULT '[]',
  policy_json TEXT NOT NULL DEFAULT '[]',
  first_seen TEXT NOT NULL,
  last_seen TEXT,
  online INTEGER NOT NULL DEFAULT 0,
  stale INTEGER NOT NULL DEFAULT 0,
  revoked INTEGER NOT NULL DEFAULT 0,
  busy INTEGER NOT NULL DEFAULT 0,
  certificate_expires TEXT
);

CREATE TABLE account_state (
  node_id TEXT NOT NULL REFERENCES nodes(id),
  backend INTEGER NOT NULL,
  account TEXT NOT NULL,
  locked INTEGER NOT NULL,
  state_json TEXT NOT NULL,
  observed TEXT NOT NULL,
  changed TEXT NOT NULL,
  PRIMARY KEY (node_id, backend, account)
) WITHOUT ROWID;

CREATE TABLE account_state_history (
  id INTEGER PRIMARY KEY,
  node_id TEXT NOT NULL,
  backend INTEGER NOT NULL,
  account TEXT NOT NULL,
  locked INTEGER NOT NULL,
  state_json TEXT NOT NULL,
  observed TEXT NOT NULL,
  source TEXT NOT NULL
);
CREATE INDEX account_state_history_node ON account_state_history(node_id, backend, account, id);

CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  time TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  node_id TEXT NOT NULL DEFAULT '',
  account TEXT NOT NULL DEFAULT '',
  operation_id TEXT NOT NULL DEFAULT '',
  request_id TEXT NOT NULL DEFAULT '',
  outcome TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  details_json TEXT NOT NULL DEFAULT '{}',
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
${appendOnly('audit_log')}

CREATE TABLE audit_checkpoints (
  id INTEGER PRIMARY KEY,
  time TEXT NOT NULL,
  head_seq INTEGER NOT NULL,
  head_hash TEXT NOT NULL
);
${appendOnly('audit_checkpoints')}
`,
  },
  {
    version: 2,
    name: 'change requests, operations and pending secrets',
    sql: `
CREATE TABLE change_requests (
  id TEXT PRIMARY KEY,
  requested_by TEXT NOT NULL,
  reason TEXT NOT NULL,
  backend INTEGER NOT NULL,
  account TEXT NOT NULL,
  action INTEGER NOT NULL,
  state TEXT NOT NULL,
  needs_approval INTEGER NOT NULL,
  privileged INTEGER NOT NULL DEFAULT 0,
  temporary INTEGER NOT NULL DEFAULT 0,
  require_idle INTEGER NOT NULL DEFAULT 0,
  approved_by TEXT NOT NULL DEFAULT '',
  rejected_by TEXT NOT NULL DEFAULT '',
  decision_note TEXT NOT NULL DEFAULT '',
  created TEXT NOT NULL,
  updated TEXT NOT NULL,
  expires TEXT NOT NULL
);
CREATE INDEX change_requests_state ON change_requests(state, created);

CREATE TABLE operations (
  id TEXT PRIMARY KEY,
  request_id TEXT NOT NULL REFERENCES change_requests(id),
  node_id TEXT NOT NULL REFERENCES nodes(id),
  backend INTEGER NOT NULL,
  account TEXT NOT NULL,
  action INTEGER NOT NULL,
  state TEXT NOT NULL,
  has_secret INTEGER NOT NULL DEFAULT 0,
  created TEXT NOT NULL,
  updated TEXT NOT NULL,
  expires TEXT NOT NULL,
  dispatched_at TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  error_code TEXT NOT NULL DEFAULT '',
  message TEXT NOT NULL DEFAULT '',
  before_json TEXT,
  after_json TEXT,
  notes_json TEXT NOT NULL DEFAULT '[]',
  failed_step TEXT NOT NULL DEFAULT '',
  replayed INTEGER NOT NULL DEFAULT 0,
  started TEXT,
  finished TEXT
);
CREATE INDEX operations_request ON operations(request_id);
CREATE INDEX operations_node_state ON operations(node_id, state);
CREATE INDEX operations_state_expires ON operations(state, expires);

CREATE TABLE operation_transitions (
  id INTEGER PRIMARY KEY,
  operation_id TEXT NOT NULL REFERENCES operations(id),
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  time TEXT NOT NULL,
  actor TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX operation_transitions_op ON operation_transitions(operation_id, id);
${appendOnly('operation_transitions')}

-- A new password waiting for its node, sealed with AES-256-GCM under <stateDir>/secrets.key.
CREATE TABLE pending_secrets (
  operation_id TEXT PRIMARY KEY REFERENCES operations(id),
  key_id TEXT NOT NULL,
  iv BLOB NOT NULL,
  ciphertext BLOB NOT NULL,
  tag BLOB NOT NULL,
  created TEXT NOT NULL
);
`,
  },
  {
    version: 3,
    name: 'operators and api tokens',
    sql: `
-- People who use the admin API and web console; roles decide what they may do (controller/admin/roles.ts).
CREATE TABLE operators (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'approver', 'admin')),
  disabled INTEGER NOT NULL DEFAULT 0,
  created TEXT NOT NULL,
  created_by TEXT NOT NULL,
  updated TEXT NOT NULL
);

-- API tokens: only a salted HMAC-SHA256 of the secret part is kept; the id (the token's prefix) finds the row.
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  operator TEXT NOT NULL REFERENCES operators(name),
  salt BLOB NOT NULL,
  hash BLOB NOT NULL,
  created TEXT NOT NULL,
  created_by TEXT NOT NULL,
  expires TEXT,
  last_used TEXT,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_operator ON api_tokens(operator);
`,
  },
  {
    version: 4,
    name: 'enrollment tokens and node certificates',
    sql: `
-- One-time enrollment tokens: only a salted HMAC-SHA256 of the secret part is kept; the id (the token's
-- prefix) finds the row. A token is used at most once (used is set in the transaction that enrolls).
CREATE TABLE enrollment_tokens (
  id TEXT PRIMARY KEY,
  salt BLOB NOT NULL,
  hash BLOB NOT NULL,
  labels_json TEXT NOT NULL DEFAULT '{}',
  node_id TEXT NOT NULL DEFAULT '',
  created TEXT NOT NULL,
  created_by TEXT NOT NULL,
  expires TEXT NOT NULL,
  used TEXT,
  used_by_node TEXT NOT NULL DEFAULT '',
  revoked TEXT,
  revoked_by TEXT NOT NULL DEFAULT ''
);

-- Every certificate the controller issued to a node (enrollment or renewal). Once a node has one, only
-- its recorded, unrevoked certificates are accepted for it (controller/enroll/peer-certificate.ts).
CREATE TABLE node_certificates (
  fingerprint TEXT PRIMARY KEY,
  node_id TEXT NOT NULL,
  serial TEXT NOT NULL,
  not_before TEXT NOT NULL,
  not_after TEXT NOT NULL,
  issued TEXT NOT NULL,
  via TEXT NOT NULL CHECK (via IN ('enroll', 'renew')),
  token_id TEXT NOT NULL DEFAULT '',
  revoked TEXT,
  revoked_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX node_certificates_node ON node_certificates(node_id, issued);

-- Labels an admin gave a node through its enrollment token; they win over the labels the node reports.
CREATE TABLE node_enrollments (
  node_id TEXT PRIMARY KEY,
  token_id TEXT NOT NULL,
  labels_json TEXT NOT NULL DEFAULT '{}',
  enrolled TEXT NOT NULL
);
`,
  },
  {
    version: 5,
    name: 'password escrow',
    sql: `
-- The escrow master key's check value: HMAC-SHA256 under the master key of a fixed text, so a wrong key is
-- recognised before any escrowed row is read or written. One row.
CREATE TABLE escrow_meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  key_id TEXT NOT NULL,
  key_check BLOB NOT NULL,
  created TEXT NOT NULL,
  rotated TEXT
);

-- Escrowed passwords, one row per version of an account's password: staged while the operation that sets
-- it is open, current once it succeeded, previous after a newer one (pruned to the history size). Each is
-- sealed with AES-256-GCM under its own data key, which is wrapped under the master key; both bind the
-- node, backend, account and version as associated data. No plaintext is ever stored.
CREATE TABLE escrow_secrets (
  id TEXT PRIMARY KEY,
  node_id TEXT NOT NULL,
  backend INTEGER NOT NULL,
  account TEXT NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('staged', 'current', 'previous')),
  operation_id TEXT NOT NULL UNIQUE,
  request_id TEXT NOT NULL,
  set_by TEXT NOT NULL,
  staged TEXT NOT NULL,
  set_at TEXT,
  key_iv BLOB NOT NULL,
  wrapped_key BLOB NOT NULL,
  key_tag BLOB NOT NULL,
  iv BLOB NOT NULL,
  ciphertext BLOB NOT NULL,
  tag BLOB NOT NULL,
  UNIQUE (node_id, backend, account, version)
);
CREATE UNIQUE INDEX escrow_secrets_current ON escrow_secrets(node_id, backend, account) WHERE state = 'current';

-- Rotation bookkeeping per account: when it was first seen, the last reveal, an outstanding rotation
-- (post-use or asked for), the retry back-off and the last rotation's outcome.
CREATE TABLE escrow_accounts (
  node_id TEXT NOT NULL,
  backend INTEGER NOT NULL,
  account TEXT NOT NULL,
  tracked_since TEXT NOT NULL,
  last_revealed TEXT,
  rotate_after TEXT,
  rotate_reason TEXT NOT NULL DEFAULT '',
  next_attempt TEXT,
  failures INTEGER NOT NULL DEFAULT 0,
  last_rotation_at TEXT,
  last_rotation_outcome TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (node_id, backend, account)
);

-- Reveals: who asked to see which account's password and why, who decided, and when it was shown (once).
CREATE TABLE escrow_reveals (
  id TEXT PRIMARY KEY,
  node_id TEXT NOT NULL,
  backend INTEGER NOT NULL,
  account TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  reason TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'collected', 'expired')),
  needs_approval INTEGER NOT NULL,
  decided_by TEXT NOT NULL DEFAULT '',
  decision_note TEXT NOT NULL DEFAULT '',
  created TEXT NOT NULL,
  decided TEXT,
  collected TEXT,
  expires TEXT NOT NULL,
  version INTEGER
);
CREATE INDEX escrow_reveals_state ON escrow_reveals(state, created);
`,
  },
  {
    version: 6,
    name: 'admin labels apart from reported labels; who could hold each api token',
    sql: `
-- labels_json now holds only the labels an admin gave a node (its enrollment token, or set later); selectors
-- match these alone. What the node says about itself in its hello is kept apart and never selects it. Labels
-- stored before this version mixed both and cannot be told apart: they become reported labels, and a node
-- keeps only the labels of its enrollment until an admin sets more.
ALTER TABLE nodes ADD COLUMN reported_labels_json TEXT NOT NULL DEFAULT '{}';
UPDATE nodes SET reported_labels_json = labels_json;
UPDATE nodes SET labels_json = coalesce((SELECT e.labels_json FROM node_enrollments e WHERE e.node_id = nodes.id), '{}');

-- The operators who could have seen each API token when it was made: its owner, whoever made it, and
-- whoever could hold the credential that was used to make it. A decision made with a token its requester
-- could have held is not a second person's. '[]' (tokens from before this version): owner and maker.
ALTER TABLE api_tokens ADD COLUMN known_to_json TEXT NOT NULL DEFAULT '[]';
`,
  },
  {
    version: 7,
    name: 'operations by request and state',
    sql: `
-- Each result settles its request only when nothing of it is left open, and a watched request reports its
-- counts per state: both read this index alone instead of every operation of the wave (a 1,000-node wave
-- read a million rows to record its results).
CREATE INDEX operations_request_state ON operations(request_id, state);
`,
  },
  {
    version: 8,
    name: 'audit sink cursors and the readiness write probe',
    sql: `
-- Each audit sink's durable cursor: the last record its receiver confirmed. Delivery resumes after it.
CREATE TABLE audit_sink_cursors (
  sink TEXT PRIMARY KEY,
  delivered_seq INTEGER NOT NULL,
  delivered_hash TEXT NOT NULL,
  updated TEXT NOT NULL
) WITHOUT ROWID;

-- One row /readyz rewrites to prove the data file still takes writes.
CREATE TABLE write_probe (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  time TEXT NOT NULL
);
`,
  },
  {
    version: 9,
    name: 'operators from the identity provider',
    sql: `
-- Operators who sign in through the organisation's identity provider (OpenID Connect): the provider's
-- issuer and subject name the person (one operator per person, whatever their user name becomes), the
-- display name is the provider's, and role_source says where the role came from: 'assigned' by an admin
-- or the bootstrap, or 'group:<name>' from auth.oidc.groupRoles at the last sign-in.
ALTER TABLE operators ADD COLUMN idp_issuer TEXT;
ALTER TABLE operators ADD COLUMN idp_subject TEXT;
ALTER TABLE operators ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE operators ADD COLUMN role_source TEXT NOT NULL DEFAULT 'assigned';
CREATE UNIQUE INDEX operators_idp_identity ON operators(idp_issuer, idp_subject) WHERE idp_subject IS NOT NULL;

-- 'session': a short-lived token "fleetpass login" obtained through the identity provider; 'api': made by hand.
ALTER TABLE api_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'session'));
`,
  },
  {
    version: 10,
    name: 'signed audit checkpoints',
    sql: `
-- Every signed checkpoint of the audit log (controller/audit): the tree size it covers, the Merkle tree head
-- (hex), when it was signed and the signed note itself. The newest size is the log's high-water mark, kept
-- apart from the audit rows: a log found shorter than it was truncated, and its sequence numbers are never
-- handed out again.
CREATE TABLE audit_signed_checkpoints (
  size INTEGER PRIMARY KEY,
  root TEXT NOT NULL,
  time TEXT NOT NULL,
  note TEXT NOT NULL
);
${appendOnly('audit_signed_checkpoints')}
`,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
