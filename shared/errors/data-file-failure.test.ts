import Database from 'better-sqlite3';
import { asFleetpassError, isDataFileFailure, toGrpcError } from '.';
import { errorResponse } from '../../controller/web/http-errors';
import { createLogger } from '../logger';

/** A real SQLite error of the data-file kind: a write on a connection that may only read. */
function readOnlyError(): unknown {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (x)');
  db.pragma('query_only = ON');
  try {
    db.prepare('INSERT INTO t VALUES (1)').run();
  } catch (e) {
    return e;
  } finally {
    db.close();
  }
  throw new Error('the write went through');
}

describe('a failing data file is FP_AUDIT_WRITE_FAILED wherever it escapes', () => {
  const e = readOnlyError();
  const log = createLogger({ level: 'silent' });

  it('is recognised by its SQLite code, and a bug in a statement is not', () => {
    expect((e as { code: string }).code).toMatch(/^SQLITE_READONLY/);
    expect(isDataFileFailure(e)).toBe(true);
    expect(isDataFileFailure(Object.assign(new Error('near "SELEC": syntax error'), { code: 'SQLITE_ERROR' }))).toBe(
      false,
    );
  });

  it('maps to FP_AUDIT_WRITE_FAILED in asFleetpassError, at the gRPC boundary and at the console boundary', () => {
    expect(asFleetpassError(e)).toMatchObject({ code: 'FP_AUDIT_WRITE_FAILED', cause: e });
    expect(toGrpcError(e).metadata?.get('fp-error-code')).toEqual(['FP_AUDIT_WRITE_FAILED']);
    expect(errorResponse(e, log)).toMatchObject({
      statusCode: 503,
      body: { error: { code: 'FP_AUDIT_WRITE_FAILED' } },
    });
  });
});
