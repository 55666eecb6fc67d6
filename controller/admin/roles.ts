/**
 * The one role → permission table. Every authorized function in admin-service names the permission it
 * needs; a role not in the table, or a permission not granted, is refused (fail closed). Roles follow the
 * proto: each includes the ones before it, except that admin does not include approver. So an approver can
 * do what an operator does and also decide on other people's requests (never their own, nor those of
 * whoever set up their account or could hold their token: the second-person rule in admin-service), and an
 * admin manages operators, first tokens and nodes but approves nothing. Everyone may make tokens for themselves.
 */
import { Role } from '../../shared/gen/fleetpass/v1/admin';
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
  admin: new Set([...OPERATE, 'requests.cancel-any', 'nodes.revoke', 'nodes.label', 'operators.manage', 'tokens.manage', 'enrollment.manage']),
};

/** True when `role` grants `permission`; false for anything unknown. */
export function roleAllows(role: string, permission: Permission): boolean {
  return Object.prototype.hasOwnProperty.call(ROLE_PERMISSIONS, role) && ROLE_PERMISSIONS[role as OperatorRole].has(permission);
}

export function isRole(value: unknown): value is OperatorRole {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

const TO_PROTO: Record<OperatorRole, Role> = {
  viewer: Role.ROLE_VIEWER, operator: Role.ROLE_OPERATOR, approver: Role.ROLE_APPROVER, admin: Role.ROLE_ADMIN,
};

export function roleToProto(role: OperatorRole): Role {
  return TO_PROTO[role];
}

/** The role for a proto Role; undefined for UNSPECIFIED or an unknown number. */
export function roleFromProto(role: Role): OperatorRole | undefined {
  return ROLES.find((r) => TO_PROTO[r] === role);
}
