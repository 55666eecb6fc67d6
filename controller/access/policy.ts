/**
 * Controller policy: which roles may act on which accounts, which accounts are privileged (a second
 * person must approve every change to them), and how generated or supplied passwords must look. The
 * `policy` section of the controller config is `policySchema`; `compilePolicy` turns it into the checks
 * the service layer asks. Anything no rule allows is refused.
 */
import { z } from 'zod';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import type { OperatorRole } from '../store/operators-repo';

const BACKEND_WORDS = ['linux', 'ssr', 'lrm'] as const;
const ACTION_WORDS = ['unlock', 'reset_password'] as const;
const CLASS_WORDS = ['upper', 'lower', 'digit', 'special'] as const;
type BackendWord = (typeof BACKEND_WORDS)[number];
type ActionWord = (typeof ACTION_WORDS)[number];
export type CharacterClass = (typeof CLASS_WORDS)[number];

const accountPattern = z
  .string()
  .regex(/^(\*|[A-Za-z0-9._][A-Za-z0-9._-]{0,31})$/, { message: 'must be an account name or "*"' });

const DEFAULT_PRIVILEGED = [
  { backend: 'linux', account: 'root' },
  { backend: 'linux', account: 'ilmnadmin' },
  { backend: 'ssr', account: 'root' },
  { backend: 'ssr', account: 'admin' },
] as const;

const DEFAULT_RULES = [
  {
    roles: ['operator', 'approver', 'admin'],
    backends: [...BACKEND_WORDS],
    accounts: ['*'],
    actions: [...ACTION_WORDS],
  },
] as const;

const DEFAULT_PASSWORDS = { length: 20, classes: [...CLASS_WORDS], minLength: 12, alphabet: 'typeable' as const };

/**
 * Which characters generated passwords use. `typeable`: only specials that sit on every keyboard layout
 * and mean nothing to a shell (an instrument's on-screen or foreign keyboard, a password read out over the
 * phone); `full`: more specials. Either way the password is as strong as `length` characters of `full`.
 */
const ALPHABET_WORDS = ['typeable', 'full'] as const;
export type PasswordAlphabet = (typeof ALPHABET_WORDS)[number];

/** Generated-password settings for some accounts (first match wins); unset keys come from `passwords`. */
const passwordClassSchema = z
  .object({
    /** Shown in config errors only. */
    name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, { message: 'must be lower-case letters, digits and "-"' }),
    accounts: z
      .array(z.object({ backend: z.enum([...BACKEND_WORDS, '*']).default('*'), account: accountPattern }).strict())
      .min(1),
    alphabet: z.enum(ALPHABET_WORDS).optional(),
    length: z.number().int().min(12).max(128).optional(),
  })
  .strict();

const ruleSchema = z
  .object({
    /** Roles this rule lets act (a viewer never can: the role lacks the operations.request permission). */
    roles: z.array(z.enum(['viewer', 'operator', 'approver', 'admin'])).min(1),
    backends: z
      .array(z.enum(BACKEND_WORDS))
      .min(1)
      .default([...BACKEND_WORDS]),
    /** Account names, or "*" for every account. */
    accounts: z.array(accountPattern).min(1),
    actions: z
      .array(z.enum(ACTION_WORDS))
      .min(1)
      .default([...ACTION_WORDS]),
  })
  .strict();

export const policySchema = z
  .object({
    /** Accounts whose unlock or reset needs a second person's approval (never the requester's own). */
    privileged: z
      .array(z.object({ backend: z.enum(BACKEND_WORDS), account: accountPattern }).strict())
      .default(DEFAULT_PRIVILEGED.map((p) => ({ ...p }))),
    /** Who may act on which accounts: a request is allowed when any rule names the role, backend, account and action. */
    rules: z.array(ruleSchema).default(
      DEFAULT_RULES.map((r) => ({
        ...r,
        roles: [...r.roles],
        backends: [...r.backends],
        accounts: [...r.accounts],
        actions: [...r.actions],
      })),
    ),
    passwords: z
      .object({
        /** Length of generated passwords (SSR nodes get at most 15, their limit). */
        length: z.number().int().min(12).max(128).default(DEFAULT_PASSWORDS.length),
        /** Character classes every generated password contains, and every supplied one must contain. */
        classes: z
          .array(z.enum(CLASS_WORDS))
          .min(1)
          .default([...CLASS_WORDS]),
        /** The shortest password an operator may supply with --password-stdin. */
        minLength: z.number().int().min(8).max(128).default(DEFAULT_PASSWORDS.minLength),
        /** The characters of generated passwords: typeable (default) or full; same strength either way. */
        alphabet: z.enum(ALPHABET_WORDS).default(DEFAULT_PASSWORDS.alphabet),
        /** Per account class: another alphabet or length for these accounts (first match wins). */
        accountClasses: z.array(passwordClassSchema).default([]),
      })
      .strict()
      .default({ ...DEFAULT_PASSWORDS, classes: [...CLASS_WORDS], accountClasses: [] }),
  })
  .strict();

export type PolicyConfig = z.output<typeof policySchema>;

/** The policy section's defaults, as the config schema fills them in. */
export function defaultPolicy(): PolicyConfig {
  return policySchema.parse({});
}

const BACKEND_BY_WORD: Record<BackendWord, Backend> = {
  linux: Backend.BACKEND_LINUX,
  ssr: Backend.BACKEND_SSR,
  lrm: Backend.BACKEND_LRM,
};
const ACTION_BY_WORD: Record<ActionWord, Action> = {
  unlock: Action.ACTION_UNLOCK,
  reset_password: Action.ACTION_RESET_PASSWORD,
};

export interface PasswordRules {
  /** The strength of generated passwords, in characters of the full alphabet (a typeable one is longer). */
  length: number;
  minLength: number;
  maxLength: number;
  classes: readonly CharacterClass[];
  alphabet: PasswordAlphabet;
}

/** What a node last reported about an account; enough to see a uid-0 account under another name. */
export interface ReportedAccount {
  details?: Record<string, string>;
}

export interface Policy {
  /**
   * Privileged accounts need a second person's approval: those the policy names, and any account the
   * node reports with uid 0 (a second root by another name), whatever it is called.
   */
  isPrivileged(backend: Backend, account: string, reported?: ReportedAccount): boolean;
  /** Whether any rule lets `role` do `action` on `account` of `backend`. */
  allows(role: OperatorRole, backend: Backend, account: string, action: Action): boolean;
  /** The password rules for an account of a node's backend (its password class, the backend's own limits applied). */
  passwordRules(backend: Backend, account?: string): PasswordRules;
  readonly config: PolicyConfig;
}

/** SSR local users: 8-15 characters with all four classes, whatever the controller policy says. */
const SSR_LIMITS = { minLength: 8, maxLength: 15 };

/** True when the node reported the account as uid 0 (the Linux backend's `linux.uid` detail). */
export function hasUidZero(reported: ReportedAccount | undefined): boolean {
  return reported?.details?.['linux.uid'] === '0';
}

/** Compiles the policy section into lookups. */
export function compilePolicy(config: PolicyConfig): Policy {
  const privileged = new Set(config.privileged.map((p) => `${BACKEND_BY_WORD[p.backend]}/${p.account}`));
  const rules = config.rules.map((r) => ({
    roles: new Set<string>(r.roles),
    backends: new Set(r.backends.map((b) => BACKEND_BY_WORD[b])),
    anyAccount: r.accounts.includes('*'),
    accounts: new Set(r.accounts),
    actions: new Set(r.actions.map((a) => ACTION_BY_WORD[a])),
  }));
  return {
    config,
    isPrivileged: (backend, account, reported) => privileged.has(`${backend}/${account}`) || hasUidZero(reported),
    allows: (role, backend, account, action) =>
      rules.some(
        (r) =>
          r.roles.has(role) &&
          r.backends.has(backend) &&
          (r.anyAccount || r.accounts.has(account)) &&
          r.actions.has(action),
      ),
    passwordRules(backend, account) {
      const cls = config.passwords.accountClasses.find((c) =>
        c.accounts.some(
          (a) =>
            (a.backend === '*' || BACKEND_BY_WORD[a.backend] === backend) &&
            (a.account === '*' || a.account === account),
        ),
      );
      const length = cls?.length ?? config.passwords.length;
      const alphabet = cls?.alphabet ?? config.passwords.alphabet;
      if (backend === Backend.BACKEND_SSR) {
        return {
          length: Math.min(length, SSR_LIMITS.maxLength),
          minLength: Math.max(SSR_LIMITS.minLength, Math.min(config.passwords.minLength, SSR_LIMITS.maxLength)),
          maxLength: SSR_LIMITS.maxLength,
          classes: [...CLASS_WORDS],
          alphabet,
        };
      }
      return {
        length,
        minLength: config.passwords.minLength,
        maxLength: 512,
        classes: config.passwords.classes,
        alphabet,
      };
    },
  };
}
