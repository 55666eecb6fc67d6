/** The one error class: a stable code from the registry, a human sentence, and an optional cause. */
import { ERROR_CODES, type ErrorCode } from './codes';
import { isDataFileFailure } from './data-file-failure';

export class FleetpassError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** Extra non-secret facts for logs and API callers (e.g. which config key). */
  readonly details: Record<string, unknown>;

  /** `detail` sharpens the registry sentence for this case; it must never contain a secret. */
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    const base = ERROR_CODES[code].message;
    super(detail ? `${detail}` : base, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'FleetpassError';
    this.code = code;
    this.retryable = ERROR_CODES[code].retryable;
    this.details = options?.details ?? {};
  }

  /** "FP_CODE: sentence", the form operators see. */
  override toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

export function isFleetpassError(e: unknown): e is FleetpassError {
  return e instanceof FleetpassError;
}

/** Wraps anything thrown as a FleetpassError, keeping the original as the cause (a failing data file: FP_AUDIT_WRITE_FAILED). */
export function asFleetpassError(e: unknown, fallback: ErrorCode = 'FP_INTERNAL'): FleetpassError {
  if (isFleetpassError(e)) return e;
  if (isDataFileFailure(e)) return new FleetpassError('FP_AUDIT_WRITE_FAILED', undefined, { cause: e });
  return new FleetpassError(fallback, undefined, { cause: e });
}
