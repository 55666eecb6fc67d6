/**
 * Account names reach system commands, so they are checked before any use: POSIX portable user names
 * (letters, digits, ".", "_", "-", not starting with "-"), at most 32 characters as useradd allows.
 */
import { z } from 'zod';
import { FleetpassError } from '../errors';

const PORTABLE_NAME = /^[A-Za-z0-9._][A-Za-z0-9._-]*$/;
export const MAX_ACCOUNT_NAME_LENGTH = 32;

/** Why `name` is not a valid account name, or undefined when it is. */
export function accountNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'the account name is empty';
  if (name.length > MAX_ACCOUNT_NAME_LENGTH)
    return `the account name is longer than ${MAX_ACCOUNT_NAME_LENGTH} characters`;
  if (name === '.' || name === '..') return 'the account name cannot be "." or ".."';
  if (!PORTABLE_NAME.test(name))
    return 'the account name may only contain letters, digits, ".", "_" and "-", and may not start with "-"';
  return undefined;
}

/** Returns `name` when valid; throws FP_ACCOUNT_NAME_INVALID otherwise (the bad name is quoted safely). */
export function assertAccountName(name: unknown): string {
  const problem = accountNameProblem(name);
  if (problem) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 40)) : typeof name;
    throw new FleetpassError('FP_ACCOUNT_NAME_INVALID', `${problem}: ${shown}`);
  }
  return name as string;
}

/** An account name in a config schema: a string whose issue, when invalid, is accountNameProblem's sentence. */
export const accountNameSchema = z.string().superRefine((name, ctx) => {
  const problem = accountNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
