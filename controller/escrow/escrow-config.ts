/**
 * The `escrow` section of the controller config: the master key, how many old passwords to keep, and
 * account classes. A class says which accounts it covers (first match wins), when their rotation windows
 * open (cron, controller local time) and how far rotations spread after that, who may reveal, whether a
 * reveal needs a second person, and whether a revealed password is rotated after a grace period.
 */
import { z } from 'zod';
import { cronExpression } from '../../shared/config';
import { Backend } from '../../shared/gen/fleetpass/v1/common';
import { isPlainCron } from '../jobs/schedule';
import type { NodeRecord } from '../store';

const BACKEND_WORDS = ['linux', 'ssr', 'lrm'] as const;
type BackendWord = (typeof BACKEND_WORDS)[number];
const REVEAL_ROLES = ['operator', 'approver', 'admin'] as const;
export type RevealRole = (typeof REVEAL_ROLES)[number];

const accountPattern = z
  .string()
  .regex(/^(\*|[A-Za-z0-9._][A-Za-z0-9._-]{0,31})$/, { message: 'must be an account name or "*"' });

const windowCron = cronExpression.refine(isPlainCron, {
  message: 'rotation windows need a minute-precision cron without L, W or # (e.g. "0 2 1 * *")',
});

const classSchema = z
  .object({
    /** Shown in status and audit records. */
    name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, { message: 'must be lower-case letters, digits and "-"' }),
    /** The accounts it covers; "*" matches any backend or account. */
    accounts: z
      .array(z.object({ backend: z.enum([...BACKEND_WORDS, '*']).default('*'), account: accountPattern }).strict())
      .min(1),
    /** Only nodes carrying all these labels (none: every node). */
    labels: z.record(z.string(), z.string()).default({}),
    /** When a rotation window opens (cron, controller local time); none: no scheduled rotation. */
    schedule: windowCron.optional(),
    /** Each account's rotation falls at a fixed offset (a hash of node and account) within this long after the window opens. */
    spreadSeconds: z
      .number()
      .int()
      .min(0)
      .max(366 * 86_400)
      .default(0),
    /** Roles that may reveal (a viewer never can). */
    revealRoles: z
      .array(z.enum(REVEAL_ROLES))
      .min(1)
      .default([...REVEAL_ROLES]),
    /** A reveal waits until someone else with the approver role approves it. */
    revealNeedsApproval: z.boolean().default(false),
    /** Rotate the account when the grace period after a reveal ends (post-use rotation). */
    rotateAfterReveal: z.boolean().default(true),
    /** Grace period after a reveal; default escrow.postUseGraceSeconds. */
    graceSeconds: z.number().int().min(0).optional(),
  })
  .strict();

const DEFAULT_CLASSES = [
  {
    name: 'privileged',
    accounts: [
      { backend: 'linux', account: 'root' },
      { backend: 'linux', account: 'ilmnadmin' },
      { backend: 'ssr', account: 'root' },
      { backend: 'ssr', account: 'admin' },
    ],
    schedule: '0 2 1 * *',
    spreadSeconds: 3 * 86_400,
    revealNeedsApproval: true,
  },
  { name: 'standard', accounts: [{ backend: '*', account: '*' }] },
] as const;

export const escrowSchema = z
  .object({
    /** Keep every password fleetpass sets, encrypted, so it can be revealed and rotated. */
    enabled: z.boolean().default(true),
    /** The master key file (32 random bytes, base64, mode 0600; created at first start). Default <stateDir>/escrow.key. FLEETPASS_ESCROW_KEY (base64) wins over the file. */
    keyFile: z.string().min(1).optional(),
    /** How many previous passwords to keep per account (besides the current one). */
    history: z.number().int().min(0).max(100).default(5),
    /** Default grace period between a reveal and the post-use rotation. */
    postUseGraceSeconds: z.number().int().min(0).default(3600),
    /** A reveal waits this long for approval, and once approved, this long to be collected. */
    revealTtlSeconds: z
      .number()
      .int()
      .min(10)
      .max(7 * 86_400)
      .default(3600),
    /** How long a rotation operation may wait for its node (a node that returns later gets a new rotation). */
    rotationTtlSeconds: z
      .number()
      .int()
      .min(10)
      .max(7 * 86_400)
      .default(3600),
    /** After a failed rotation, wait base·2^(failures-1), at most max, before the next try. */
    retry: z
      .object({
        baseSeconds: z.number().int().min(1).default(900),
        maxSeconds: z.number().int().min(1).default(86_400),
      })
      .strict()
      .default({ baseSeconds: 900, maxSeconds: 86_400 }),
    /** How often due rotations are looked for. */
    checkSchedule: cronExpression.default('* * * * *'),
    /** Account classes, first match wins; accounts no class covers are escrowed but never rotated on a schedule. */
    classes: z.array(classSchema).default(() => DEFAULT_CLASSES.map((c) => classSchema.parse(structuredClone(c)))),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.classes.forEach((cls, i) => {
      if (seen.has(cls.name))
        ctx.addIssue({
          code: 'custom',
          path: ['classes', i, 'name'],
          message: `the class name "${cls.name}" is used twice`,
        });
      seen.add(cls.name);
    });
  });

export type EscrowConfig = z.output<typeof escrowSchema>;
export type EscrowClassConfig = EscrowConfig['classes'][number];

/** What a class decides for one account, with the defaults filled in. */
export interface AccountClass {
  name: string;
  schedule?: string;
  spreadSeconds: number;
  revealRoles: readonly RevealRole[];
  revealNeedsApproval: boolean;
  rotateAfterReveal: boolean;
  graceSeconds: number;
}

/** Accounts no class covers: escrowed, revealed by operators without approval, rotated after use. */
const UNCLASSED = {
  name: '',
  spreadSeconds: 0,
  revealRoles: REVEAL_ROLES,
  revealNeedsApproval: false,
  rotateAfterReveal: true,
} as const;

const BACKEND_BY_WORD: Record<BackendWord, Backend> = {
  linux: Backend.BACKEND_LINUX,
  ssr: Backend.BACKEND_SSR,
  lrm: Backend.BACKEND_LRM,
};

/** The defaults of the section (as the controller config fills them in). */
export function defaultEscrowConfig(): EscrowConfig {
  return escrowSchema.parse({});
}

/** The class of an account on a node (labels from the inventory); unclassed accounts get the defaults. */
export function classify(
  config: EscrowConfig,
  node: Pick<NodeRecord, 'labels'> | undefined,
  backend: Backend,
  account: string,
): AccountClass {
  for (const c of config.classes) {
    const accountMatches = c.accounts.some(
      (a) =>
        (a.backend === '*' || BACKEND_BY_WORD[a.backend] === backend) && (a.account === '*' || a.account === account),
    );
    const labelsMatch = Object.entries(c.labels).every(([k, v]) => node?.labels[k] === v);
    if (accountMatches && labelsMatch) {
      return {
        name: c.name,
        schedule: c.schedule,
        spreadSeconds: c.spreadSeconds,
        revealRoles: c.revealRoles,
        revealNeedsApproval: c.revealNeedsApproval,
        rotateAfterReveal: c.rotateAfterReveal,
        graceSeconds: c.graceSeconds ?? config.postUseGraceSeconds,
      };
    }
  }
  return { ...UNCLASSED, graceSeconds: config.postUseGraceSeconds };
}
