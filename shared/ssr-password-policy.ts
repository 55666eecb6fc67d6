/**
 * The SSR local-user password policy (SSR 5.6+, docs config_password_policies): 8-15 characters with at
 * least one upper-case letter, one lower-case letter, one digit and one special character; 8 positions must
 * change; the last 5 passwords cannot be reused; at least 24 hours between changes. Only the parts that can be
 * judged from the password alone are checked here; history and lifetime are the router's to enforce.
 */
import { randomInt } from 'node:crypto';
import { FleetpassError } from './errors';

export const SSR_PASSWORD_POLICY = {
  minLength: 8,
  maxLength: 15,
  /** pam_pwquality `difok`: the edit distance between the old and the new password. */
  minChangedPositions: 8,
  historyGenerations: 5,
  minLifetimeHours: 24,
  maxLifetimeDays: 60,
} as const;

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
// No ":" (the chpasswd field separator), no quotes, backslash or space: safe in every tool that may see it.
const SPECIAL = '!#%+-.=?@^_~*$';
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Why `password` breaks the SSR policy, one sentence per problem; empty when it is acceptable. */
export function checkSsrPasswordPolicy(password: string): readonly string[] {
  const problems: string[] = [];
  const { minLength, maxLength } = SSR_PASSWORD_POLICY;
  if (password.length < minLength || password.length > maxLength)
    problems.push(`must be ${minLength} to ${maxLength} characters long`);
  if (!PRINTABLE_ASCII.test(password)) problems.push('may contain only printable ASCII characters');
  if (!/[A-Z]/.test(password)) problems.push('needs an upper-case letter');
  if (!/[a-z]/.test(password)) problems.push('needs a lower-case letter');
  if (!/[0-9]/.test(password)) problems.push('needs a digit');
  if (!/[^A-Za-z0-9]/.test(password)) problems.push('needs a special character');
  return problems;
}

/** Throws FP_PASSWORD_POLICY naming every problem (never the password) unless `password` meets the policy. */
export function assertSsrPasswordPolicy(password: string): void {
  const problems = checkSsrPasswordPolicy(password);
  if (problems.length > 0) {
    throw new FleetpassError(
      'FP_PASSWORD_POLICY',
      `the new password does not meet the SSR password policy: it ${problems.join(', ')}`,
      {
        details: { problems, step: 'policy-check' },
      },
    );
  }
}

/** Levenshtein distance, which is how pam_pwquality's `difok` counts changed positions. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

function pick(chars: string): string {
  return chars[randomInt(chars.length)];
}

/**
 * A random password that meets the SSR policy (15 characters by default, one of each class at least).
 * Characters in `avoid` are left out where a class still has others: the one-time password the SSR backend
 * signs in with shares no character with the requested one, so the router's "8 positions must change" rule
 * cannot refuse the change from one to the other.
 */
export function generateSsrPassword(options: { length?: number; avoid?: string } = {}): string {
  const length = options.length ?? SSR_PASSWORD_POLICY.maxLength;
  if (!Number.isInteger(length) || length < SSR_PASSWORD_POLICY.minLength || length > SSR_PASSWORD_POLICY.maxLength) {
    throw new FleetpassError(
      'FP_INVALID_ARGUMENT',
      `an SSR password must be ${SSR_PASSWORD_POLICY.minLength} to ${SSR_PASSWORD_POLICY.maxLength} characters long`,
    );
  }
  const avoid = new Set(options.avoid ?? '');
  const classes = [UPPER, LOWER, DIGITS, SPECIAL].map((set) => {
    const kept = [...set].filter((c) => !avoid.has(c)).join('');
    return kept.length > 0 ? kept : set;
  });
  const all = classes.join('');
  const chars = classes.map(pick);
  while (chars.length < length) chars.push(pick(all));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}
