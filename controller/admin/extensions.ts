/**
 * The parts of the admin API that later features supply: enrollment tokens (issue 7) and password escrow
 * (issue 12). admin-service checks the caller's role and audits refusals before it calls in, so an
 * implementation only does its own job (and its own audit of what it changed) with the principal it is
 * given. Without one, the call answers FP_ACTION_UNSUPPORTED.
 */
import type {
  CreateEnrollmentTokenRequest, CreateEnrollmentTokenResponse, DecideRevealRequest, DecideRevealResponse, EscrowStatusRequest, EscrowStatusResponse,
  ListEnrollmentTokensResponse, ListRevealsRequest, ListRevealsResponse, Reveal, RevealPasswordRequest, RevealPasswordResponse,
  RevokeEnrollmentTokenResponse, RotatePasswordsRequest, RotatePasswordsResponse,
} from '../../shared/gen/fleetpass/v1/admin';
import type { Principal } from './authenticate';

type MaybePromise<T> = T | Promise<T>;

/** Enrollment tokens; admin-service has checked the 'enrollment.manage' permission. */
export interface EnrollmentExtension {
  createToken(principal: Principal, input: CreateEnrollmentTokenRequest): MaybePromise<CreateEnrollmentTokenResponse>;
  listTokens(principal: Principal): MaybePromise<ListEnrollmentTokensResponse>;
  revokeToken(principal: Principal, id: string): MaybePromise<RevokeEnrollmentTokenResponse>;
}

/**
 * Password escrow. admin-service has checked 'escrow.reveal' / 'escrow.rotate' / 'escrow.read'; the
 * extension decides approvals for reveals (admin-service's `assertMayDecide` holds the second-person rule) and audits.
 */
export interface EscrowExtension {
  reveal(principal: Principal, input: RevealPasswordRequest): MaybePromise<RevealPasswordResponse>;
  rotate(principal: Principal, input: RotatePasswordsRequest): MaybePromise<RotatePasswordsResponse>;
  status(principal: Principal, input: EscrowStatusRequest): MaybePromise<EscrowStatusResponse>;
  listReveals(principal: Principal, input: ListRevealsRequest): MaybePromise<ListRevealsResponse>;
  /** One reveal (FP_REVEAL_NOT_FOUND), so admin-service can apply the second-person rule before deciding. */
  getReveal(principal: Principal, id: string): MaybePromise<Reveal>;
  /** admin-service has checked 'requests.decide' and that the decider is not the requester. */
  decideReveal(principal: Principal, input: DecideRevealRequest): MaybePromise<DecideRevealResponse>;
}

export interface AdminExtensions {
  enrollment?: EnrollmentExtension;
  escrow?: EscrowExtension;
}
