/**
 * The one error registry: every fleetpass error code, the sentence an operator can act on, whether
 * retrying may help, and the gRPC status it maps to at the boundary. docs/errors.md lists every code
 * (a test checks). Messages never contain a secret. Each area appends to its own section.
 */
import { status } from '@grpc/grpc-js';

export interface ErrorSpec {
  /** What happened and what to do, in one or two sentences. */
  readonly message: string;
  readonly retryable: boolean;
  readonly grpc: status;
}

function spec(message: string, grpc: status, retryable = false): ErrorSpec {
  return { message, grpc, retryable };
}

export const ERROR_CODES = {
  // --- general ---
  FP_INTERNAL: spec('An internal error occurred; the details are in the server log.', status.INTERNAL),
  FP_INVALID_ARGUMENT: spec('The request is not valid.', status.INVALID_ARGUMENT),
  FP_NOT_FOUND: spec('The requested item does not exist.', status.NOT_FOUND),
  FP_TIMEOUT: spec('The operation took too long and was stopped.', status.DEADLINE_EXCEEDED, true),
  FP_UNAVAILABLE: spec('The service is not available right now; try again shortly.', status.UNAVAILABLE, true),
  FP_SHUTTING_DOWN: spec('The service is shutting down and takes no new work.', status.UNAVAILABLE, true),
  FP_RATE_LIMITED: spec('Too many requests; wait a moment and try again.', status.RESOURCE_EXHAUSTED, true),

  // --- config ---
  FP_CONFIG_INVALID: spec(
    'The configuration is not valid; fix the listed keys and start again.',
    status.FAILED_PRECONDITION,
  ),
  FP_CONFIG_UNREADABLE: spec('The configuration file cannot be read.', status.FAILED_PRECONDITION),
  FP_CONFIG_NOT_FOUND: spec('The configuration file named does not exist; check the path.', status.FAILED_PRECONDITION),

  // --- account names, commands, backends (agent) ---
  FP_ACCOUNT_NAME_INVALID: spec('The account name is not a valid POSIX portable user name.', status.INVALID_ARGUMENT),
  FP_ACCOUNT_NOT_FOUND: spec('The account does not exist on this node.', status.NOT_FOUND),
  FP_POLICY_DENIED: spec(
    "The agent's local policy does not allow this action on this account.",
    status.PERMISSION_DENIED,
  ),
  FP_BACKEND_UNAVAILABLE: spec('The account backend is not enabled on this node.', status.FAILED_PRECONDITION),
  FP_ACTION_UNSUPPORTED: spec('This backend does not support the requested action.', status.UNIMPLEMENTED),
  FP_SECRET_MISSING: spec('A password reset needs a new password and none was given.', status.INVALID_ARGUMENT),
  FP_COMMAND_FAILED: spec('A system command failed on the node.', status.INTERNAL, true),
  FP_COMMAND_TIMEOUT: spec('A system command did not finish in time on the node.', status.DEADLINE_EXCEEDED, true),
  FP_STILL_LOCKED: spec('The account is still locked after the operation.', status.INTERNAL),
  FP_TALLYLOG_CORRUPT: spec(
    'The pam_tally2 file is damaged (wrong size or layout); it was left untouched.',
    status.DATA_LOSS,
  ),
  FP_PAM_CONFIG_UNREADABLE: spec("The node's PAM lockout configuration cannot be read.", status.FAILED_PRECONDITION),
  FP_LINUX_ACCOUNTS_UNREADABLE: spec(
    'The account files (/etc/passwd, /etc/shadow) cannot be read; the agent must run as root.',
    status.FAILED_PRECONDITION,
  ),
  FP_FAILURE_COUNTER_IO: spec(
    'The failed-login counter file (pam_faillock or pam_tally2) cannot be read or cleared.',
    status.INTERNAL,
    true,
  ),
  FP_LINUX_NO_PASSWORD: spec(
    'The account has no password, so removing its password lock would leave it without one; reset the password instead.',
    status.FAILED_PRECONDITION,
  ),
  FP_PAM_SANDBOX_UNAVAILABLE: spec(
    'A private PAM sandbox cannot be created here; it needs Linux, root, unshare, nsenter and overlayfs.',
    status.FAILED_PRECONDITION,
  ),
  FP_DEMO_NOT_RUNNING: spec(
    'The demo is not running in this folder; start it with npm start first.',
    status.FAILED_PRECONDITION,
  ),

  // --- operations (agent and controller) ---
  FP_OPERATION_EXPIRED: spec(
    'The operation expired before it could be applied; nothing was changed.',
    status.DEADLINE_EXCEEDED,
  ),
  FP_OPERATION_UNKNOWN: spec(
    'The controller does not know this operation, or did not send it to this node.',
    status.NOT_FOUND,
  ),
  FP_OPERATION_DUPLICATE: spec(
    'This operation was already applied; the recorded result is returned.',
    status.ALREADY_EXISTS,
  ),
  FP_NODE_BUSY: spec(
    'The instrument is busy (for example a sequencing run); the operation waits for the next idle window.',
    status.UNAVAILABLE,
    true,
  ),
  FP_JOURNAL_FAILED: spec('The agent could not write its operation journal; nothing was applied.', status.INTERNAL),
  FP_OPERATION_INTERRUPTED: spec(
    'The agent stopped while applying this operation and did not apply it again; check the account state and send a new operation if needed.',
    status.ABORTED,
  ),

  // --- SSR backend ---
  FP_SSR_SERVICE_DOWN: spec(
    'The 128T service is not running on this router (or its state could not be read), so a password change would be lost; nothing was changed. Start 128T (`systemctl start 128T`) and retry.',
    status.FAILED_PRECONDITION,
    true,
  ),
  FP_SSR_UNREACHABLE: spec(
    'The SSR REST API does not answer (128T starting or stopped, wrong ssr.baseUrl, or too slow); try again when it is running.',
    status.UNAVAILABLE,
    true,
  ),
  FP_SSR_TLS_UNTRUSTED: spec(
    "The SSR REST API's certificate is not trusted (it matches neither ssr.tls.caFile nor ssr.tls.fingerprint); nothing was sent to it.",
    status.FAILED_PRECONDITION,
  ),
  FP_SSR_AUTH_FAILED: spec(
    'The SSR refused a sign-in or a current password that fleetpass had just set; check the user on the router (remote authentication, disabled, or locked).',
    status.FAILED_PRECONDITION,
  ),
  FP_SSR_POLICY_REFUSED: spec(
    'The SSR refused the new password under its password policy (8-15 characters with upper, lower, digit and special; not one of the last 5; at most one change per 24 hours); choose another password or wait.',
    status.FAILED_PRECONDITION,
  ),
  FP_SSR_USER_NOT_LOCAL: spec(
    'The account is not a local user in the SSR user store (missing, or authenticated remotely), so fleetpass cannot set its password; nothing was changed.',
    status.FAILED_PRECONDITION,
  ),
  FP_SSR_USER_DISABLED: spec(
    'The SSR user is disabled, so it cannot sign in to change its password; enable it on the router first. Nothing was changed.',
    status.FAILED_PRECONDITION,
  ),
  FP_SSR_UNEXPECTED_RESPONSE: spec(
    'The SSR REST API answered in a way fleetpass does not understand; its API may differ on this version.',
    status.INTERNAL,
  ),
  FP_SSR_VERIFY_FAILED: spec(
    'The SSR accepted the new password but signing in with it failed; check the user on the router.',
    status.INTERNAL,
  ),
  FP_SSR_RESET_INCOMPLETE: spec(
    'The SSR reset stopped half way and the account could not be put back into a usable state: its Linux password is a random one nobody knows. Retry the reset.',
    status.INTERNAL,
    true,
  ),

  // --- LRM backend ---
  FP_LRM_UNSUPPORTED_VERSION: spec(
    'This Local Run Manager is version 3.x or older, which fleetpass cannot unlock or reset; contact Illumina Technical Support (techsupport@illumina.com) for help resetting the password.',
    status.FAILED_PRECONDITION,
  ),
  FP_LRM_VERSION_UNKNOWN: spec(
    'The Local Run Manager version could not be read from its login page; nothing was changed. Check lrm.baseUrl and run `fleetpass-agent lrm probe`.',
    status.FAILED_PRECONDITION,
  ),
  FP_LRM_UNREACHABLE: spec(
    'Local Run Manager does not answer (not running, wrong address, or too slow); try again when it is running.',
    status.UNAVAILABLE,
    true,
  ),
  FP_LRM_TLS_UNTRUSTED: spec(
    "Local Run Manager's certificate is not trusted (it matches neither lrm.tls.caFile nor lrm.tls.fingerprint); nothing was sent.",
    status.FAILED_PRECONDITION,
  ),
  FP_LRM_AUTH_FAILED: spec(
    "Local Run Manager refused the agent's LRM service account (wrong username or password, locked or disabled); fix the credential in the agent configuration.",
    status.FAILED_PRECONDITION,
  ),
  FP_LRM_NOT_ADMIN: spec(
    'The LRM service account is not an LRM administrator; only an administrator can unlock users and set passwords.',
    status.FAILED_PRECONDITION,
  ),
  FP_LRM_UNEXPECTED_RESPONSE: spec(
    'Local Run Manager answered in a way fleetpass does not understand; its API may differ on this version. Run `fleetpass-agent lrm probe` and check the endpoint table.',
    status.INTERNAL,
  ),
  FP_LRM_RESET_INCOMPLETE: spec(
    'The LRM account was unlocked but the temporary password was not set: the user keeps the old password. Retry the reset.',
    status.INTERNAL,
    true,
  ),

  // --- controller core, storage and audit ---
  FP_AUDIT_WRITE_FAILED: spec(
    'The audit log cannot be written; no operation was sent. Check the disk and the database file.',
    status.UNAVAILABLE,
    true,
  ),
  FP_AUDIT_BROKEN: spec('The audit chain does not verify.', status.DATA_LOSS),
  FP_AUDIT_INTEGRITY: spec(
    "The audit log does not hold what its signed checkpoints or the fleet's witnesses say it held (a record was changed or removed, or the files were restored from an older copy), so fleetpass refuses every change and keeps serving reads; the first disagreement is named. Treat it as a security incident.",
    status.FAILED_PRECONDITION,
  ),
  FP_AUDIT_KEY_INVALID: spec(
    'The audit signing key or its public key (vkey) is missing, unreadable or not an Ed25519 key.',
    status.FAILED_PRECONDITION,
  ),
  FP_DB_SCHEMA_TOO_NEW: spec(
    'The database was written by a newer fleetpass; upgrade fleetpass or restore an older backup.',
    status.FAILED_PRECONDITION,
  ),
  FP_DB_UNAVAILABLE: spec('The database cannot be opened or written.', status.UNAVAILABLE, true),
  FP_KEY_INVALID: spec(
    'The encryption key is missing, unreadable or wrong; the controller will not start with it.',
    status.FAILED_PRECONDITION,
  ),
  FP_NODE_UNKNOWN: spec('No node with that id is enrolled.', status.NOT_FOUND),
  FP_NODE_IDENTITY_MISMATCH: spec(
    "The node's hello does not match the identity in its certificate.",
    status.PERMISSION_DENIED,
  ),
  FP_NODE_REVOKED: spec('This node has been revoked and may not connect.', status.PERMISSION_DENIED),
  FP_REPORT_TOO_LARGE: spec(
    'The state report is over the bounds a node may report (accounts, details, text lengths); nothing of it was stored. The bound is named.',
    status.RESOURCE_EXHAUSTED,
  ),

  // --- operators, roles, approvals ---
  FP_UNAUTHENTICATED: spec('A valid operator credential is required.', status.UNAUTHENTICATED),
  FP_FORBIDDEN: spec('Your role does not allow this.', status.PERMISSION_DENIED),
  FP_SELF_APPROVAL: spec(
    'You cannot approve or reject your own request; ask a second approver.',
    status.PERMISSION_DENIED,
  ),
  FP_REASON_REQUIRED: spec('A reason (ticket number or free text) is required.', status.INVALID_ARGUMENT),
  FP_ACCOUNT_UNKNOWN: spec(
    'No chosen node reports this account; check the name against the accounts the nodes have.',
    status.INVALID_ARGUMENT,
  ),
  FP_REQUEST_NOT_PENDING: spec('The request is not waiting for approval.', status.FAILED_PRECONDITION),
  FP_PASSWORD_POLICY: spec('The password does not meet the password policy.', status.INVALID_ARGUMENT),
  FP_NO_NODES_MATCHED: spec('The selector matched no nodes.', status.INVALID_ARGUMENT),
  FP_OPERATOR_NAME_INVALID: spec(
    'An operator name must be 1-64 lower-case letters, digits, ".", "_" or "-", starting with a letter.',
    status.INVALID_ARGUMENT,
  ),
  FP_OPERATOR_EXISTS: spec(
    'An operator with that name already exists (disabled operators keep their name).',
    status.ALREADY_EXISTS,
  ),
  FP_LAST_ADMIN: spec(
    'This is the last enabled admin; create another admin before disabling it.',
    status.FAILED_PRECONDITION,
  ),
  FP_ADMIN_EXISTS: spec(
    'An admin already exists; bootstrap-admin refuses to create another unless given --force.',
    status.FAILED_PRECONDITION,
  ),
  FP_POLICY_FORBIDDEN: spec(
    'The controller policy does not let your role do this to this account.',
    status.PERMISSION_DENIED,
  ),
  FP_AUDIT_EXPORT_INVALID: spec(
    'The file is not a fleetpass audit export (CSV or JSON Lines) or is damaged; the line is named.',
    status.INVALID_ARGUMENT,
  ),
  FP_OUTPUT_EXISTS: spec(
    'The output file already exists and was left as it is; choose another file or pass --force to replace it.',
    status.ALREADY_EXISTS,
  ),
  FP_OPERATIONS_FAILED: spec(
    'Some operations of the request did not succeed; the per-node table shows which and why.',
    status.ABORTED,
  ),
  FP_TOKEN_HANDED_OVER: spec(
    'This operator already has an active API token, so only they can make more (`fleetpass tokens create --operator <their own name>`); an admin hands over only the first one.',
    status.FAILED_PRECONDITION,
  ),
  FP_APPROVER_NOT_INDEPENDENT: spec(
    'The requester created your operator account or could have held the token you signed in with, so this would not be a second person deciding; ask an approver the requester did not set up or hand a token to.',
    status.PERMISSION_DENIED,
  ),
  FP_SAME_PASSWORD_UNCONFIRMED: spec(
    'A supplied password would be set on more than one node; generate one per node (--generate), or confirm the same password on every node with --same-password.',
    status.INVALID_ARGUMENT,
  ),

  // --- PKI and enrollment ---
  FP_TOKEN_INVALID: spec(
    'The enrollment token is unknown, used, revoked or expired; ask an admin for a new one.',
    status.PERMISSION_DENIED,
  ),
  FP_CA_FINGERPRINT_MISMATCH: spec(
    "The controller's CA does not match the pinned fingerprint; do not enroll against it.",
    status.PERMISSION_DENIED,
  ),
  FP_CSR_INVALID: spec('The certificate signing request is not valid.', status.INVALID_ARGUMENT),
  FP_TLS_MATERIAL: spec('The TLS key or certificate files are missing or unreadable.', status.FAILED_PRECONDITION),
  FP_CLIENT_CERT_REQUIRED: spec(
    "This call needs a client certificate issued by this controller's CA; enroll the node first (fleetpass-agent enroll).",
    status.UNAUTHENTICATED,
  ),
  FP_CERTIFICATE_REVOKED: spec(
    'This certificate was revoked or replaced by a newer one; use the newest certificate, or enroll the node again with a new token.',
    status.PERMISSION_DENIED,
  ),
  FP_NODE_ID_INVALID: spec(
    'A node id must be 1-63 lower-case letters, digits, "." or "-", starting and ending with a letter or digit.',
    status.INVALID_ARGUMENT,
  ),
  FP_NODE_EXISTS: spec(
    'A node with this id is already enrolled; to enroll it again an admin must create a token that names it (--node-id).',
    status.ALREADY_EXISTS,
  ),
  FP_ALREADY_ENROLLED: spec(
    'This node already has a certificate; remove it (or pass --force) to enroll again.',
    status.FAILED_PRECONDITION,
  ),
  FP_CONTROLLER_CERT_INVALID: spec(
    "The controller's server certificate is not valid for the address dialled (name, dates or signature); nothing was sent. Add the name to the controller's tls.hosts.",
    status.FAILED_PRECONDITION,
  ),

  // --- escrow ---
  FP_ESCROW_KEY_MISSING: spec(
    'The escrow master key is missing (no key file and no FLEETPASS_ESCROW_KEY) while the database holds escrowed passwords; restore the key from backup. Nothing was changed.',
    status.FAILED_PRECONDITION,
  ),
  FP_ESCROW_KEY_WRONG: spec(
    'The escrow master key is not the one the escrowed passwords are sealed under (its check value does not match); start with the right key. Nothing was changed.',
    status.FAILED_PRECONDITION,
  ),
  FP_ESCROW_KEY_INVALID: spec(
    'The escrow master key cannot be used: the file is unreadable, readable by group or others, or not a 32-byte base64 key.',
    status.FAILED_PRECONDITION,
  ),
  FP_ESCROW_NOT_FOUND: spec(
    'fleetpass holds no escrowed password for this account on this node (it never set one, or the node or account name is wrong); reset or rotate it first.',
    status.NOT_FOUND,
  ),
  FP_ESCROW_UNREADABLE: spec(
    'The escrowed password does not open (damaged record or wrong key); nothing was revealed. Rotate the account to escrow a new one.',
    status.DATA_LOSS,
  ),
  FP_REVEAL_NOT_FOUND: spec('No reveal with this id.', status.NOT_FOUND),
  FP_REVEAL_PENDING: spec(
    'The reveal is waiting for an approver; collect it with its id once it is approved.',
    status.FAILED_PRECONDITION,
  ),
  FP_REVEAL_NOT_PENDING: spec(
    'The reveal is not waiting for a decision (already decided, collected or expired).',
    status.FAILED_PRECONDITION,
  ),
  FP_REVEAL_NOT_COLLECTABLE: spec(
    'This reveal cannot be collected: it was rejected, has expired, was already collected, or was asked for by someone else. Ask for a new reveal.',
    status.FAILED_PRECONDITION,
  ),

  // --- web console ---
  FP_WEB_SESSION_REQUIRED: spec(
    'Your console session has ended (signed out, idle, expired or the controller restarted); sign in again.',
    status.UNAUTHENTICATED,
  ),
  FP_WEB_CSRF: spec(
    "The request lacks the console's anti-forgery token or came from another site; reload the console and try again.",
    status.PERMISSION_DENIED,
  ),
  FP_WEB_SIGNIN_THROTTLED: spec(
    'Too many failed sign-ins from this address or for this token; wait until the window ends and try again.',
    status.RESOURCE_EXHAUSTED,
    true,
  ),
  FP_WEB_ASSETS_MISSING: spec(
    "The console's built files (dist/web) are missing; run `npm run build` or reinstall the package.",
    status.FAILED_PRECONDITION,
  ),
  FP_WEB_TOO_MANY_STREAMS: spec(
    'Too many live views are open; close some console tabs and reload.',
    status.RESOURCE_EXHAUSTED,
    true,
  ),

  // --- sign-in through the organisation's identity provider (OpenID Connect) ---
  FP_OIDC_NOT_CONFIGURED: spec(
    'Sign-in through an identity provider is not configured on this controller (auth.oidc in the controller config).',
    status.FAILED_PRECONDITION,
  ),
  FP_OIDC_PROVIDER_UNAVAILABLE: spec(
    'The identity provider cannot be reached or gave no usable answer; nobody was signed in. Try again later, or sign in with an API token.',
    status.UNAVAILABLE,
    true,
  ),
  FP_OIDC_ISSUER_MISMATCH: spec(
    'The identity provider answered as another issuer than auth.oidc.issuer; nobody was signed in. Check the issuer URL in the controller config.',
    status.FAILED_PRECONDITION,
  ),
  FP_OIDC_TOKEN_INVALID: spec(
    "The identity provider's ID token was refused (signature, issuer, audience, expiry or nonce); nobody was signed in.",
    status.UNAUTHENTICATED,
  ),
  FP_OIDC_STATE_INVALID: spec(
    'This sign-in expired or was already used; nobody was signed in. Start the sign-in again.',
    status.UNAUTHENTICATED,
  ),
  FP_OIDC_DENIED: spec(
    'The identity provider did not sign you in (refused or cancelled); nobody was signed in.',
    status.UNAUTHENTICATED,
  ),
  FP_OIDC_GROUPS_MISSING: spec(
    'The identity provider sent no groups claim for you, so fleetpass cannot tell your role; ask IT to release the groups claim (auth.oidc.groupsClaim) to fleetpass.',
    status.PERMISSION_DENIED,
  ),
  FP_OIDC_NO_ROLE: spec(
    'None of your groups at the identity provider maps to a fleetpass role (auth.oidc.groupRoles); ask IT to add you to one of those groups.',
    status.PERMISSION_DENIED,
  ),
  FP_OIDC_DOMAIN_NOT_ALLOWED: spec(
    'Your e-mail domain is not one auth.oidc.allowedDomains lets sign in; nobody was signed in.',
    status.PERMISSION_DENIED,
  ),
  FP_OIDC_IDENTITY_CONFLICT: spec(
    'An operator with the name the identity provider gives you already exists and belongs to someone else; ask an admin.',
    status.FAILED_PRECONDITION,
  ),
  FP_TOKEN_SIGNIN_DISABLED: spec(
    'Signing in to the console with an API token is turned off (auth.tokenSignIn: false); sign in with the identity provider.',
    status.FAILED_PRECONDITION,
  ),

  // --- integrations (audit sinks, metrics) ---
  FP_AUDIT_SINK_BEHIND: spec(
    'A required audit sink has not confirmed the audit records within its bound (audit.sinks[].maxLagRecords / maxLagSeconds), so fleetpass refuses changes until it catches up; nothing was changed. Check the connection to the SIEM collector.',
    status.UNAVAILABLE,
    true,
  ),
  FP_AUDIT_SINK_DELIVERY_FAILED: spec(
    'An audit sink could not deliver audit records (collector unreachable, TLS refused, an error answer, or no acknowledgement); the records stay queued and are sent again.',
    status.UNAVAILABLE,
    true,
  ),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;
