/** What the enrollment functions work with, and their settings. */
import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import type { CertAndKey } from '../../shared/pki';
import type { AuditLog } from '../audit';
import type { EventBus } from '../dispatch';
import type { SessionRegistry } from '../server/node-session';
import type { Store } from '../store';
import type { EnrollmentRepo } from '../store/enrollment-repo';
import type { RateLimiter } from './rate-limit';

export interface EnrollSettings {
  /** Lifetime of node certificates (fractions allowed, so tests can issue short-lived ones). */
  nodeCertificateDays: number;
  defaultTokenTtlSeconds: number;
  maxTokenTtlSeconds: number;
  /** Wrong tokens from one peer address before it is refused for the rest of the window. */
  maxTokenFailures: number;
  tokenFailureWindowSeconds: number;
  /** Renewals one node may ask for within the window (a healthy agent renews once per lifetime). */
  maxRenewals: number;
  renewalWindowSeconds: number;
}

export const DEFAULT_ENROLL_SETTINGS: EnrollSettings = {
  nodeCertificateDays: 90,
  defaultTokenTtlSeconds: 86_400,
  maxTokenTtlSeconds: 30 * 86_400,
  maxTokenFailures: 10,
  tokenFailureWindowSeconds: 300,
  maxRenewals: 10,
  renewalWindowSeconds: 600,
};

export interface EnrollDeps {
  store: Store;
  repo: EnrollmentRepo;
  audit: AuditLog;
  /** The controller CA: signs node certificates; every node certificate must chain to it. */
  ca: CertAndKey;
  caFingerprint: string;
  sessions: SessionRegistry;
  events: EventBus;
  clock: Clock;
  log: Logger;
  settings: EnrollSettings;
  /** Wrong tokens per peer address. */
  tokenFailures: RateLimiter;
  /** Renewals per node. */
  renewals: RateLimiter;
}
