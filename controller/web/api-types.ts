/**
 * The web console's JSON API shapes, shared by the server (controller/web) and the browser code
 * (controller/web/ui). Types only, no imports, so both programs compile it. Enums travel as lower-case
 * words; times as ISO 8601 strings (or null).
 */

export type BackendWord = 'linux' | 'ssr' | 'lrm' | 'unknown';
export type ActionWord = 'unlock' | 'reset_password' | 'refresh_state' | 'unknown';
export type RoleWord = 'viewer' | 'operator' | 'approver' | 'admin';
export type RequestStateWord = 'pending_approval' | 'approved' | 'rejected' | 'cancelled' | 'done';
export type OperationStateWord =
  'requested' | 'approved' | 'dispatched' | 'succeeded' | 'failed' | 'refused' | 'expired' | 'cancelled';

/** What the signed-in operator may do; the UI hides what is false, the API refuses it anyway. */
export interface Abilities {
  request: boolean;
  decide: boolean;
  cancelAny: boolean;
  auditRead: boolean;
  escrowRead: boolean;
  escrowReveal: boolean;
}

/** GET /api/session/options: what the sign-in page offers. */
export interface SignInOptionsJson {
  tokenSignIn: boolean;
  /** "Sign in with <provider>" when the controller has an identity provider. */
  provider?: string;
}

export interface SessionInfo {
  operator: string;
  role: RoleWord;
  /** Send back in the X-CSRF-Token header on every change. */
  csrfToken: string;
  abilities: Abilities;
  /** When the session ends regardless of activity. */
  expires: string;
  idleMinutes: number;
}

export interface NodeJson {
  id: string;
  hostname: string;
  platform: string;
  /** Given by an admin: what selectors match. */
  labels: Record<string, string>;
  /** What the node says about itself; shown only. */
  reportedLabels: Record<string, string>;
  agentVersion: string;
  backends: BackendWord[];
  online: boolean;
  stale: boolean;
  revoked: boolean;
  busy: boolean;
  firstSeen: string;
  lastSeen: string | null;
  lockedAccounts: number;
}

export interface AccountStateJson {
  backend: BackendWord;
  account: string;
  exists: boolean;
  locked: boolean;
  lockReasons: string[];
  failureCount: number;
  denyThreshold: number;
  lockEnds: string | null;
  lockPermanent: boolean;
  lastFailure: string | null;
  lastFailureSource: string;
  passwordChanged: string | null;
  passwordExpires: string | null;
  mustChangePassword: boolean;
  observed: string | null;
}

export interface AccountJson {
  nodeId: string;
  hostname: string;
  site: string;
  online: boolean;
  privileged: boolean;
  /** When this state was last seen to differ from the one before. */
  changed: string;
  state: AccountStateJson;
}

export interface OperationJson {
  id: string;
  requestId: string;
  nodeId: string;
  backend: BackendWord;
  account: string;
  action: ActionWord;
  state: OperationStateWord;
  errorCode: string;
  message: string;
  updated: string;
  expires: string;
  lockedAfter: boolean | null;
}

export interface RequestJson {
  id: string;
  requestedBy: string;
  reason: string;
  backend: BackendWord;
  account: string;
  action: ActionWord;
  state: RequestStateWord;
  needsApproval: boolean;
  privileged: boolean;
  approvedBy: string;
  rejectedBy: string;
  decisionNote: string;
  created: string;
  expires: string;
  counts: Partial<Record<OperationStateWord, number>>;
  operations?: OperationJson[];
}

export interface NewRequestBody {
  action: 'unlock' | 'reset_password';
  backend: 'linux' | 'ssr' | 'lrm';
  account: string;
  nodeIds: string[];
  reason: string;
  dryRun?: boolean;
}

export interface NewRequestResult {
  request: RequestJson | null;
  needsApproval: boolean;
  privileged: boolean;
  warnings: string[];
  nodeIds: string[];
  /** Shown once to the requester; the server keeps it only encrypted in escrow (shown again only by an audited reveal). */
  generatedPasswords: Array<{ nodeId: string; password: string }>;
}

export interface HistoryEntryJson {
  observed: string;
  source: string;
  state: AccountStateJson;
}

export interface AuditRecordJson {
  seq: number;
  time: string;
  actor: string;
  action: string;
  nodeId: string;
  account: string;
  operationId: string;
  requestId: string;
  outcome: string;
  reason: string;
  details: Record<string, unknown>;
  hash: string;
}

export interface AuditPageJson {
  records: AuditRecordJson[];
  /** Pass as `before` for the next (older) page; 0 when there is none. */
  nextCursor: number;
}

export interface VerifyJson {
  ok: boolean;
  total: number;
  verifiedThrough: number;
  brokenAt: number;
  problem: string;
  checkpoints: number;
}

export interface NodeDetailJson {
  node: NodeJson;
  accounts: AccountJson[];
  /** Operations on this node that are not final yet (waiting for approval, queued or sent). */
  pending: Array<OperationJson & { requestedBy: string; reason: string; requestState: RequestStateWord }>;
}

export interface AccountHistoryJson {
  history: HistoryEntryJson[];
  audit: AuditRecordJson[];
}

export interface ActivityJson {
  /** UTC days, oldest first (YYYY-MM-DD). */
  days: string[];
  sites: Array<{ site: string; lockouts: number[]; resets: number[]; unlocks: number[] }>;
  /** Nodes with the most lockouts in the window, most first. */
  topNodes: Array<{
    nodeId: string;
    hostname: string;
    site: string;
    lockouts: number;
    resets: number;
    unlocks: number;
  }>;
}

/** Server-sent events on /api/events: the event name and its data. */
export type LiveEvent =
  | { type: 'node'; node: NodeJson }
  | { type: 'accounts'; nodeId: string; accounts: AccountJson[] }
  | { type: 'operation'; operation: OperationJson }
  | { type: 'request'; request: RequestJson };

export interface ApiErrorJson {
  error: { code: string; message: string; retryable: boolean };
}

// --- password escrow (controller/web/routes/escrow-routes.ts) ---

/** One escrowed (or scheduled) account; never a password. */
export interface EscrowEntryJson {
  nodeId: string;
  hostname: string;
  backend: BackendWord;
  account: string;
  rotationClass: string;
  /** When the current escrowed password took effect, and who asked for it (null: none escrowed yet). */
  setAt: string | null;
  setBy: string;
  versions: number;
  lastRevealed: string | null;
  nextRotation: string | null;
  rotationReason: string;
  lastRotationAt: string | null;
  lastRotationOutcome: string;
  inFlight: boolean;
}

export type RevealStateWord = 'pending' | 'approved' | 'rejected' | 'revealed' | 'expired';

/** A request to see an escrowed password; never the password. */
export interface RevealJson {
  id: string;
  nodeId: string;
  backend: BackendWord;
  account: string;
  requestedBy: string;
  reason: string;
  state: RevealStateWord;
  needsApproval: boolean;
  decidedBy: string;
  decisionNote: string;
  created: string | null;
  expires: string | null;
}

export interface EscrowStatusJson {
  available: boolean;
  message?: string;
  entries: EscrowEntryJson[];
  /** Reveals waiting for approval or collection. */
  reveals: RevealJson[];
}

export interface RevealBody {
  nodeId: string;
  backend: 'linux' | 'ssr' | 'lrm';
  account: string;
  reason: string;
}

/** The answer to a reveal or a collect: the password only when revealed, shown once. */
export interface RevealAnswerJson {
  state: 'revealed' | 'pending';
  revealId: string;
  password?: string;
  rotateAfter: string | null;
}

export interface RotateBody {
  nodeIds: string[];
  backend: 'linux' | 'ssr' | 'lrm';
  account: string;
  reason: string;
}
