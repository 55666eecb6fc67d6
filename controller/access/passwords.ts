/**
 * Passwords the controller hands to nodes: generated ones (node crypto, one of every required class,
 * uniform picks, shuffled) and supplied ones (checked against the node backend's rules). SSR nodes use the
 * SSR backend's own policy code, so the router never refuses what the controller sends. Problems are named,
 * the password never is.
 */
import { randomInt } from 'node:crypto';
import { checkSsrPasswordPolicy, generateSsrPassword } from '../../shared/ssr-password-policy';
import { FleetpassError } from '../../shared/errors';
import { Backend } from '../../shared/gen/fleetpass/v1/common';
import type { CharacterClass, PasswordAlphabet, PasswordRules } from './policy';

// No ":" (chpasswd's separator), quotes, backslash or space: safe wherever a password may be passed on.
// No look-alikes (I O l 0 1). `typeable` keeps only specials on every keyboard layout that a shell leaves
// alone; `$ % # ~ ^ ? ! * = @` are hard on an instrument's keyboard, dead keys, or shell syntax.
const SETS: Record<PasswordAlphabet, Record<CharacterClass, string>> = {
  full: {
    upper: 'ABCDEFGHJKLMNPQRSTUVWXYZ',
    lower: 'abcdefghijkmnopqrstuvwxyz',
    digit: '23456789',
    special: '!#%+-.=?@^_~*$',
  },
  typeable: {
    upper: 'ABCDEFGHJKLMNPQRSTUVWXYZ',
    lower: 'abcdefghijkmnopqrstuvwxyz',
    digit: '23456789',
    special: '-._+',
  },
};

/**
 * How many characters of `alphabet` give at least the strength of `rules.length` characters of the full
 * alphabet over the same classes (log2 of the alphabet size per character): 20 full are 21 typeable.
 */
export function generatedLength(rules: Pick<PasswordRules, 'length' | 'classes' | 'alphabet'>): number {
  const size = (a: PasswordAlphabet) => rules.classes.reduce((n, c) => n + SETS[a][c].length, 0);
  const full = size('full');
  const mine = size(rules.alphabet);
  return Math.ceil((rules.length * Math.log2(full)) / Math.log2(mine) - 1e-9);
}
const TESTS: Record<CharacterClass, RegExp> = {
  upper: /[A-Z]/,
  lower: /[a-z]/,
  digit: /[0-9]/,
  special: /[^A-Za-z0-9]/,
};
const CLASS_NAMES: Record<CharacterClass, string> = {
  upper: 'an upper-case letter',
  lower: 'a lower-case letter',
  digit: 'a digit',
  special: 'a special character',
};

/** A new random password for a node of `backend` under `rules` (SSR: the router's own policy and limit). */
export function generatePassword(backend: Backend, rules: PasswordRules): string {
  if (backend === Backend.BACKEND_SSR) return generateSsrPassword({ length: rules.length });
  const sets = rules.classes.map((c) => SETS[rules.alphabet][c]);
  const all = sets.join('');
  const chars = sets.map((s) => s[randomInt(s.length)]);
  const length = Math.min(generatedLength(rules), rules.maxLength);
  while (chars.length < length) chars.push(all[randomInt(all.length)]);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}

/** Why a supplied password breaks the rules for `backend`, one phrase per problem; empty when it is fine. */
export function passwordProblems(password: string, backend: Backend, rules: PasswordRules): string[] {
  if (backend === Backend.BACKEND_SSR) return [...checkSsrPasswordPolicy(password)];
  const problems: string[] = [];
  if (password.length < rules.minLength) problems.push(`must be at least ${rules.minLength} characters long`);
  if (password.length > rules.maxLength) problems.push(`must be at most ${rules.maxLength} characters long`);
  if ([...password].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    problems.push('may not contain control characters or line breaks');
  for (const c of rules.classes) if (!TESTS[c].test(password)) problems.push(`needs ${CLASS_NAMES[c]}`);
  return problems;
}

/** Throws FP_PASSWORD_POLICY naming every problem (never the password) unless `password` is acceptable. */
export function assertPasswordAcceptable(password: string, backend: Backend, rules: PasswordRules): void {
  const problems = passwordProblems(password, backend, rules);
  if (problems.length > 0) {
    throw new FleetpassError(
      'FP_PASSWORD_POLICY',
      `the password does not meet the ${backend === Backend.BACKEND_SSR ? 'SSR ' : ''}password policy: it ${problems.join(', ')}`,
      { details: { problems } },
    );
  }
}
