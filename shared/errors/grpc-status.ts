/**
 * Translation between FleetpassError and gRPC status, used only at the gRPC boundary. Unknown errors
 * become INTERNAL with the generic sentence; their cause goes to the log, never to the caller.
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ERROR_CODES, type ErrorCode } from './codes';
import { isDataFileFailure } from './data-file-failure';
import { FleetpassError, asFleetpassError, isFleetpassError } from './fleetpass-error';

const CODE_KEY = 'fp-error-code';

/** Builds the error to pass to a grpc-js callback or `call.destroy()`. */
export function toGrpcError(e: unknown, log?: Logger): Partial<ServiceError> {
  const metadata = new Metadata();
  if (isDataFileFailure(e)) e = asFleetpassError(e);
  if (isFleetpassError(e)) {
    metadata.set(CODE_KEY, e.code);
    if (e.code === 'FP_INTERNAL' && log) log.error({ err: e.cause ?? e }, 'internal error');
    return { code: ERROR_CODES[e.code].grpc, details: e.message, message: e.message, metadata };
  }
  log?.error({ err: e }, 'unexpected error');
  metadata.set(CODE_KEY, 'FP_INTERNAL');
  return {
    code: status.INTERNAL,
    details: ERROR_CODES.FP_INTERNAL.message,
    message: ERROR_CODES.FP_INTERNAL.message,
    metadata,
  };
}

/** Turns an error received from a grpc-js client call back into a FleetpassError. */
export function fromGrpcError(e: unknown): FleetpassError {
  if (isFleetpassError(e)) return e;
  const err = e as Partial<ServiceError>;
  const raw = err?.metadata?.get(CODE_KEY)?.[0];
  const code = typeof raw === 'string' && raw in ERROR_CODES ? (raw as ErrorCode) : undefined;
  if (code) return new FleetpassError(code, err.details || undefined, { cause: e });
  if (err?.code === status.UNAVAILABLE)
    return new FleetpassError('FP_UNAVAILABLE', `cannot reach the controller: ${err.details ?? ''}`.trim(), {
      cause: e,
    });
  if (err?.code === status.UNAUTHENTICATED) return new FleetpassError('FP_UNAUTHENTICATED', undefined, { cause: e });
  if (err?.code === status.DEADLINE_EXCEEDED) return new FleetpassError('FP_TIMEOUT', undefined, { cause: e });
  return new FleetpassError('FP_INTERNAL', err?.details || undefined, { cause: e });
}
