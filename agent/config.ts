/**
 * The agent's configuration: one zod schema with embedded defaults, compiled once by shared/config
 * (defaults → file → FLEETPASS_* environment → flags), frozen, with warnings for insecure-but-allowed settings.
 */
import { hostname as osHostname } from 'node:os';
import { z } from 'zod';
import { loadConfig, type LoadedConfig } from '../shared/config';
import { accountNameSchema } from '../shared/validation/account-name';
import { Action, Backend } from '../shared/gen/fleetpass/v1/common';
import { backendConfigSchemas, backendWarnings } from './backends/registry';

export const DEFAULT_CONFIG_FILE = '/etc/fleetpass/agent.yaml';

/** Backend names as written in the config file, and their wire enum. */
export const BACKEND_NAMES = {
  linux: Backend.BACKEND_LINUX,
  ssr: Backend.BACKEND_SSR,
  lrm: Backend.BACKEND_LRM,
} as const;
export type BackendName = keyof typeof BACKEND_NAMES;

/** Action names as written in the config file, and their wire enum. */
export const ACTION_NAMES = {
  unlock: Action.ACTION_UNLOCK,
  reset_password: Action.ACTION_RESET_PASSWORD,
  refresh_state: Action.ACTION_REFRESH_STATE,
} as const;
export type ActionName = keyof typeof ACTION_NAMES;

const backendName = z.enum(Object.keys(BACKEND_NAMES) as [BackendName, ...BackendName[]]);
const actionName = z.enum(Object.keys(ACTION_NAMES) as [ActionName, ...ActionName[]]);

const policyAccountSchema = z
  .object({
    backend: backendName,
    account: accountNameSchema,
    actions: z.array(actionName).min(1, 'list at least one action'),
  })
  .strict();

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:7443');

export const agentConfigSchema = z
  .object({
    controller: z
      .object({
        /** Where the controller's AgentService listens. */
        address: hostPort.default('127.0.0.1:7443'),
        // In the state directory, not /etc/fleetpass: enrollment and renewal rewrite them, and the systemd
        // sandbox keeps /etc/fleetpass read-only for the agent.
        caFile: z.string().min(1).default('/var/lib/fleetpass-agent/ca.crt'),
        certFile: z.string().min(1).default('/var/lib/fleetpass-agent/node.crt'),
        keyFile: z.string().min(1).default('/var/lib/fleetpass-agent/node.key'),
        /** TLS name to expect on the controller's certificate when it differs from the address host. */
        serverName: z.string().min(1).optional(),
        /** HTTP/2 keepalive ping interval and how long to wait for its answer. */
        keepaliveSeconds: z.number().int().min(10).max(3600).default(30),
        keepaliveTimeoutSeconds: z.number().int().min(1).max(300).default(10),
      })
      .strict()
      .prefault({}),
    /** Holds the operation journal. */
    stateDir: z.string().min(1).default('/var/lib/fleetpass-agent'),
    hostname: z.string().min(1).default(osHostname()),
    /** e.g. nextseq-2000, nextseq-1000, ssr, linux. */
    platform: z.string().min(1).default('linux'),
    labels: z.record(z.string(), z.string()).default({}),
    /** Full state report interval (the controller's welcome may override it). */
    reportIntervalSeconds: z.number().int().min(5).max(86400).default(300),
    /**
     * How often to inspect every managed account and report only what changed. 0 turns it off. Each check
     * runs the backends' inspect (local files and commands for Linux; a sign-in for LRM/SSR), hence a minute.
     */
    changeCheckSeconds: z.number().int().min(0).max(3600).default(60),
    heartbeatSeconds: z.number().int().min(1).max(3600).default(30),
    reconnect: z
      .object({
        initialMs: z.number().int().min(10).default(1000),
        maxMs: z.number().int().min(10).default(60_000),
      })
      .strict()
      .prefault({}),
    /** The instrument is busy when this file exists, or when this command exits 0 (argv, no shell). */
    busyCheck: z
      .object({
        file: z.string().min(1).optional(),
        command: z.array(z.string()).min(1).optional(),
        timeoutSeconds: z.number().int().min(1).max(60).default(5),
      })
      .strict()
      .prefault({}),
    /** Journal entries older than this are dropped when the journal is compacted at start. */
    journalRetentionDays: z.number().int().min(1).max(3650).default(30),
    backends: z
      .object({
        linux: backendConfigSchemas.linux.prefault({}),
        ssr: backendConfigSchemas.ssr.optional(),
        lrm: backendConfigSchemas.lrm.optional(),
      })
      .strict()
      .prefault({}),
    policy: z
      .object({
        /** root (uid 0) may be touched only when this is true. */
        allowRoot: z.boolean().default(false),
        accounts: z.array(policyAccountSchema).default([]),
      })
      .strict()
      .prefault({}),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.reconnect.maxMs < c.reconnect.initialMs) {
      ctx.addIssue({ code: 'custom', path: ['reconnect', 'maxMs'], message: 'must be at least reconnect.initialMs' });
    }
    const seen = new Set<string>();
    c.policy.accounts.forEach((entry, i) => {
      const key = `${entry.backend}/${entry.account}`;
      if (seen.has(key))
        ctx.addIssue({ code: 'custom', path: ['policy', 'accounts', i], message: `${key} is listed twice` });
      seen.add(key);
      const backendConfig = c.backends[entry.backend as keyof typeof c.backends] as { enabled?: boolean } | undefined;
      if (!backendConfig?.enabled) {
        ctx.addIssue({
          code: 'custom',
          path: ['policy', 'accounts', i, 'backend'],
          message: `backend "${entry.backend}" is not enabled under backends.${entry.backend}`,
        });
      }
      // Fail closed: listing root without allowRoot is a mistake to fix, not a silent no.
      if (entry.account === 'root' && !c.policy.allowRoot) {
        ctx.addIssue({
          code: 'custom',
          path: ['policy', 'accounts', i, 'account'],
          message: 'root is listed but policy.allowRoot is false',
        });
      }
    });
  });

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type PolicyAccount = z.infer<typeof policyAccountSchema>;

/** Insecure-but-allowed settings, one sentence each. */
export function agentConfigWarnings(c: AgentConfig): string[] {
  const warnings: string[] = [];
  if (c.policy.allowRoot)
    warnings.push('policy.allowRoot is true: the controller may reset or unlock root on this node');
  if (c.policy.accounts.length === 0)
    warnings.push('policy.accounts is empty: the agent manages no account and refuses every operation');
  const enabled = Object.entries(c.backends).filter(([, b]) => (b as { enabled?: boolean } | undefined)?.enabled);
  if (enabled.length === 0) warnings.push('no backend is enabled under backends: the agent can inspect nothing');
  warnings.push(...backendWarnings(c.backends));
  return warnings;
}

export interface LoadAgentConfigOptions {
  file?: string;
  /** A missing file is an error unless the caller runs on embedded defaults. */
  fileRequired?: boolean;
  env?: NodeJS.ProcessEnv;
  flags?: Record<string, unknown>;
}

/** Loads and validates the agent config; throws FP_CONFIG_INVALID / FP_CONFIG_UNREADABLE naming each bad key. */
export function loadAgentConfig(options: LoadAgentConfigOptions = {}): LoadedConfig<AgentConfig> {
  return loadConfig({
    schema: agentConfigSchema,
    file: options.file,
    fileRequired: options.fileRequired ?? true,
    env: options.env,
    envKeys: Object.keys(agentConfigSchema.shape),
    flags: options.flags,
    warn: agentConfigWarnings,
  });
}
