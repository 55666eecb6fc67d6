/** What a failure counter (pam_faillock or pam_tally2) says about one account at one moment. */
export interface FailureAssessment {
  /** Failures that count towards the deny threshold, as the module counts them. */
  readonly failures: number;
  readonly lastFailure?: Date;
  /** Where the last failure came from: rhost, tty or service name ("" when unknown). */
  readonly lastFailureSource: string;
  /** The module would refuse a login now, even with the right password. */
  readonly locked: boolean;
  /** When a lock ends by itself; undefined when not locked or when it never ends by itself. */
  readonly lockEnds?: Date;
  /** Locked with no automatic unlock (unlock_time 0 / never). */
  readonly lockPermanent: boolean;
}

export const NO_FAILURES: FailureAssessment = {
  failures: 0,
  lastFailureSource: '',
  locked: false,
  lockPermanent: false,
};

/** Seconds since the epoch as a Date. */
export function fromEpochSeconds(s: number): Date {
  return new Date(s * 1000);
}
