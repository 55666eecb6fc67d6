/**
 * The one role → permission table. Every function of the service layer names the permission it
 * needs; a role not in the table, or a permission not granted, is refused (fail closed). Each role includes the ones before it (viewer, operator, approver), and admin
 * includes operator but not approver. So an approver can
 * do what an operator does and also decide on other people's requests (never their own, nor those of
 * whoever set up their account or could hold their token: the second-person rule in service/rules.ts), and an
 * admin manages operators, first tokens and nodes but approves nothing. Everyone may make tokens for themselves.
 */
import type { OperatorRole } from '../store/operators-repo';

export const ROLES: readonly OperatorRole[] = ['viewer', 'operator', 'approver', 'admin'];

export type Permission =
  /** Nodes, accounts, change requests and their progress. */
  | 'fleet.read'
  /** Search, export and verify the audit log. */
  | 'audit.read'
  /** Ask for unlocks and resets (within the account policy), and cancel one's own requests. */
  | 'operations.request'
  /** Approve or reject other people's requests. */
  | 'requests.decide'
  /** Cancel anyone's request. */
  | 'requests.cancel-any'
  | 'nodes.revoke'
  /** Give nodes the labels selectors match. */
  | 'nodes.label'
  | 'operators.manage'
  /** Hand an operator their first API token (further ones they make themselves). */
  | 'tokens.manage'
  /** Make more API tokens for oneself. */
  | 'tokens.own'
  | 'enrollment.manage'
  /** See escrow status (when passwords were set, next rotation); never a password. */
  | 'escrow.read'
  /** Reveal an escrowed password (audited, maybe with approval, per policy). */
  | 'escrow.reveal'
  /** Rotate escrowed passwords now. */
  | 'escrow.rotate';

const READ: readonly Permission[] = ['fleet.read', 'audit.read', 'escrow.read', 'tokens.own'];
const OPERATE: readonly Permission[] = [...READ, 'operations.request', 'escrow.reveal', 'escrow.rotate'];

export const ROLE_PERMISSIONS: Readonly<Record<OperatorRole, ReadonlySet<Permission>>> = {
  viewer: new Set(READ),
  operator: new Set(OPERATE),
  approver: new Set([...OPERATE, 'requests.decide']),
  admin: new Set([
    ...OPERATE,
    'requests.cancel-any',
    'nodes.revoke',
    'nodes.label',
    'operators.manage',
    'tokens.manage',
    'enrollment.manage',
  ]),
};

/** True when `role` grants `permission`; false for anything unknown. */
export function roleAllows(role: string, permission: Permission): boolean {
  return (
    Object.prototype.hasOwnProperty.call(ROLE_PERMISSIONS, role) &&
    ROLE_PERMISSIONS[role as OperatorRole].has(permission)
  );
}

export function isRole(value: unknown): value is OperatorRole {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
