/**
 * SQLite failures that mean "the data file refuses writes" (full, read-only, I/O error, locked, damaged)
 * rather than a bug in a statement. Wherever one escapes (a read on the connect path as much as an audited
 * write), the caller is told FP_AUDIT_WRITE_FAILED, never FP_INTERNAL (asFleetpassError, toGrpcError and the
 * console's errorResponse map it): nothing could be recorded, so nothing was done.
 */
const DATA_FILE_CODES = /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|BUSY|LOCKED|CORRUPT|NOTADB|PERM)/;

/** True for a SQLite error that says the data file cannot be used (see the module doc). */
export function isDataFileFailure(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && DATA_FILE_CODES.test(code);
}
