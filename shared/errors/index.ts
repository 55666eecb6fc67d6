/** Errors: the registry, the error class and the gRPC boundary translation. */
export { ERROR_CODES, type ErrorCode, type ErrorSpec } from './codes';
export { FleetpassError, isFleetpassError, asFleetpassError } from './fleetpass-error';
export { toGrpcError, fromGrpcError } from './grpc-status';
export { isDataFileFailure } from './data-file-failure';
export { nodeUnknown, changeRequestNotFound } from './known-errors';
