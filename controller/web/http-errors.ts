/**
 * FleetpassError → HTTP status and the JSON error body, at the console's HTTP boundary only. Unknown
 * errors become 500 FP_INTERNAL with the generic sentence; their cause goes to the log, never to the
 * browser.
 */
import { status } from '@grpc/grpc-js';
import {
  ERROR_CODES,
  asFleetpassError,
  isDataFileFailure,
  isFleetpassError,
  type ErrorCode,
} from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import type { ApiErrorJson } from './api-types';

const HTTP_BY_GRPC: Partial<Record<status, number>> = {
  [status.INVALID_ARGUMENT]: 400,
  [status.OUT_OF_RANGE]: 400,
  [status.UNAUTHENTICATED]: 401,
  [status.PERMISSION_DENIED]: 403,
  [status.NOT_FOUND]: 404,
  [status.ALREADY_EXISTS]: 409,
  [status.FAILED_PRECONDITION]: 409,
  [status.ABORTED]: 409,
  [status.RESOURCE_EXHAUSTED]: 429,
  [status.UNIMPLEMENTED]: 501,
  [status.UNAVAILABLE]: 503,
  [status.DEADLINE_EXCEEDED]: 504,
};

/** The HTTP status for an error code (500 for anything without a closer match). */
export function httpStatusOf(code: ErrorCode): number {
  return HTTP_BY_GRPC[ERROR_CODES[code].grpc] ?? 500;
}

/** The status and body for anything thrown by a route. */
export function errorResponse(e: unknown, log: Logger): { statusCode: number; body: ApiErrorJson } {
  if (isDataFileFailure(e)) e = asFleetpassError(e);
  if (isFleetpassError(e)) {
    if (e.code === 'FP_INTERNAL') log.error({ err: e.cause ?? e }, 'internal error');
    return {
      statusCode: httpStatusOf(e.code),
      body: { error: { code: e.code, message: e.message, retryable: e.retryable } },
    };
  }
  // fastify's own errors (bad JSON, body too large) carry a 4xx statusCode and a safe message.
  const fe = e as { statusCode?: number; code?: string; message?: string };
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code: ErrorCode =
      fe.statusCode === 429 ? 'FP_RATE_LIMITED' : fe.statusCode === 404 ? 'FP_NOT_FOUND' : 'FP_INVALID_ARGUMENT';
    return {
      statusCode: fe.statusCode,
      body: {
        error: {
          code,
          message:
            fe.statusCode === 429
              ? ERROR_CODES.FP_RATE_LIMITED.message
              : `the request is not valid: ${String(fe.message).slice(0, 200)}`,
          retryable: code === 'FP_RATE_LIMITED',
        },
      },
    };
  }
  log.error({ err: e }, 'unexpected error');
  return {
    statusCode: 500,
    body: { error: { code: 'FP_INTERNAL', message: ERROR_CODES.FP_INTERNAL.message, retryable: false } },
  };
}
