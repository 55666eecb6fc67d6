import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { ERROR_CODES, FleetpassError, fromGrpcError, toGrpcError } from '.';

describe('error registry', () => {
  const doc = readFileSync(join(__dirname, '../../docs/errors.md'), 'utf8');

  it('documents every code in docs/errors.md', () => {
    const missing = Object.keys(ERROR_CODES).filter((code) => !doc.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('documents no code that does not exist', () => {
    const documented = [...doc.matchAll(/`(FP_[A-Z0-9_]+)`/g)].map((m) => m[1]);
    expect(documented.filter((c) => !(c in ERROR_CODES))).toEqual([]);
  });

  it('gives every code a sentence and a code-shaped name', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^FP_[A-Z0-9_]+$/);
      expect(spec.message.length).toBeGreaterThan(10);
    }
  });

  it('round-trips through gRPC status with its code', () => {
    const wire = toGrpcError(new FleetpassError('FP_SELF_APPROVAL'));
    expect(wire.code).toBe(status.PERMISSION_DENIED);
    const back = fromGrpcError(wire);
    expect(back.code).toBe('FP_SELF_APPROVAL');
    expect(back.message).toBe(ERROR_CODES.FP_SELF_APPROVAL.message);
  });

  it('hides the cause of unknown errors from the caller', () => {
    const wire = toGrpcError(new Error('db path /secret/x exploded'));
    expect(wire.code).toBe(status.INTERNAL);
    expect(wire.details).toBe(ERROR_CODES.FP_INTERNAL.message);
  });
});
