/**
 * The controller's configuration: a zod schema with embedded defaults (the controller starts with no
 * arguments), loaded through shared/config (defaults → file → FLEETPASS_* env → flags). Paths that
 * default relative to the state folder are resolved here once, so the rest of the code sees absolute paths.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { cronExpression, loadConfig, type LoadedConfig } from '../shared/config';
import { AUTH_FILE_FORBIDDEN, DEFAULT_AUTH_CONFIG, authSchema } from './access/auth-config';
import { defaultPolicy, policySchema } from './access/policy';
import { defaultEscrowConfig, escrowSchema } from './escrow/escrow-config';
import { DEFAULT_METRICS_CONFIG, auditSinksSchema, metricsSchema } from './integrations/integrations-config';

/** host:port with a numeric port (0 picks a free port, for tests). */
const listenAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, { message: 'must be host:port' })
  .refine((s) => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, { message: 'port must be 0-65535' });

const seconds = (def: number) => z.number().int().positive().default(def);

const rawSchema = z
  .object({
    /** Where the database, keys, PKI, checkpoints and backups live. */
    stateDir: z.string().min(1).default('./.fleetpass'),
    /** The SQLite data file; defaults to <stateDir>/fleetpass.db. */
    database: z.string().min(1).optional(),
    agentListen: listenAddress.default('127.0.0.1:7443'),
    adminListen: listenAddress.default('127.0.0.1:7444'),
    webListen: listenAddress.default('127.0.0.1:8443'),
    /** The web console (on webListen); false serves only the admin API. */
    web: z
      .object({ enabled: z.boolean().default(true) })
      .strict()
      .default({ enabled: true }),
    /** GET /metrics (Prometheus), /healthz and /readyz (controller/integrations). */
    metricsListen: listenAddress.default('127.0.0.1:9464'),
    metrics: metricsSchema.default(DEFAULT_METRICS_CONFIG),
    /** Where the audit trail is shipped besides the local chain (controller/integrations/sinks). */
    audit: z.object({ sinks: auditSinksSchema }).strict().default({ sinks: [] }),
    tls: z
      .object({
        /** Extra DNS names / IPs for the server certificate (the listen host, localhost, 127.0.0.1 and the machine's hostname are always in). */
        hosts: z.array(z.string().min(1)).default([]),
        /** Where the CA and server key pairs live; defaults to <stateDir>/pki. */
        dir: z.string().min(1).optional(),
        /** Lifetime of node certificates; agents renew when a third is left. Fractions allowed (tests). */
        nodeCertificateDays: z.number().positive().max(3650).default(90),
        /** A connection (agent or admin port) whose TLS handshake has not finished within this is closed. */
        handshakeTimeoutSeconds: z.number().positive().max(120).default(10),
      })
      .strict()
      .default({ hosts: [], nodeCertificateDays: 90, handshakeTimeoutSeconds: 10 }),
    keepalive: z
      .object({
        /** The server pings an idle connection this often... */
        timeSeconds: seconds(20),
        /** ...and drops it when the ping is not answered within this, so a dead node is noticed in bounded time. */
        timeoutSeconds: seconds(10),
      })
      .strict()
      .default({ timeSeconds: 20, timeoutSeconds: 10 }),
    /** Told to agents in Welcome. */
    heartbeatSeconds: seconds(30),
    reportIntervalSeconds: seconds(300),
    /** How long an operation waits for an offline node by default. */
    operationTtlSeconds: seconds(3600),
    /** After expiry, how long a dispatched operation may still report before the controller gives up on it. */
    resultGraceSeconds: seconds(120),
    /** A node silent for longer than this is marked stale and its stream closed. */
    staleAfterSeconds: seconds(120),
    /** Account state history kept per node and account: at most this many changes, none older than this. */
    accountHistory: z
      .object({
        maxPerAccount: z.number().int().min(1).max(100_000).default(500),
        maxAgeDays: z.number().int().min(1).max(3650).default(365),
      })
      .strict()
      .default({ maxPerAccount: 500, maxAgeDays: 365 }),
    jobs: z
      .object({
        refresh: cronExpression.default('*/15 * * * *'),
        stale: cronExpression.default('* * * * *'),
        expire: cronExpression.default('* * * * *'),
        backup: cronExpression.default('17 3 * * *'),
        checkpoint: cronExpression.default('*/10 * * * *'),
      })
      .strict()
      .default({
        refresh: '*/15 * * * *',
        stale: '* * * * *',
        expire: '* * * * *',
        backup: '17 3 * * *',
        checkpoint: '*/10 * * * *',
      }),
    backup: z
      .object({
        /** Defaults to <stateDir>/backups. */
        dir: z.string().min(1).optional(),
        keep: z.number().int().min(1).default(7),
      })
      .strict()
      .default({ keep: 7 }),
    /** Largest message accepted from an agent (bytes). */
    maxMessageBytes: z
      .number()
      .int()
      .min(4096)
      .default(4 * 1024 * 1024),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .default({ level: 'info' }),
    /** Who may act on which accounts, privileged accounts, password rules (controller/access/policy.ts). */
    policy: policySchema.default(defaultPolicy),
    /** Console sign-in: API tokens, session lifetime, the identity provider (controller/access/auth-config.ts). */
    auth: authSchema.default(DEFAULT_AUTH_CONFIG),
    /** Password escrow: master key, history, account classes with rotation windows and reveal rules (controller/escrow). */
    escrow: escrowSchema.default(defaultEscrowConfig),
  })
  .strict();

const TOP_LEVEL_KEYS = Object.keys(rawSchema.shape);

function under(base: string, p: string | undefined, fallback: string, cwd: string): string {
  if (p === undefined) return join(base, fallback);
  return isAbsolute(p) ? p : resolve(cwd, p);
}

/** The schema with derived paths filled in; `cwd` anchors relative paths. */
export function controllerConfigSchema(cwd = process.cwd()) {
  return rawSchema.transform((c) => {
    const stateDir = resolve(cwd, c.stateDir);
    return {
      ...c,
      stateDir,
      database: under(stateDir, c.database, 'fleetpass.db', cwd),
      tls: { ...c.tls, dir: under(stateDir, c.tls.dir, 'pki', cwd) },
      backup: { ...c.backup, dir: under(stateDir, c.backup.dir, 'backups', cwd) },
      escrow: { ...c.escrow, keyFile: under(stateDir, c.escrow.keyFile, 'escrow.key', cwd) },
      auth: {
        ...c.auth,
        oidc: c.auth.oidc && {
          ...c.auth.oidc,
          clientSecretFile: c.auth.oidc.clientSecretFile && resolve(cwd, c.auth.oidc.clientSecretFile),
        },
      },
    };
  });
}

export type ControllerConfig = Readonly<z.output<ReturnType<typeof controllerConfigSchema>>>;
/** What a caller may pass as overrides (flags, tests): the raw, unresolved shape. */
export type ControllerConfigInput = z.input<typeof rawSchema>;

function warnings(c: ControllerConfig): string[] {
  const out: string[] = [];
  for (const [key, addr] of [
    ['agentListen', c.agentListen],
    ['adminListen', c.adminListen],
    ['webListen', c.webListen],
  ] as const) {
    if (addr.startsWith('0.0.0.0:') || addr.startsWith('[::]:'))
      out.push(`${key} listens on every interface (${addr}); make sure a firewall limits who can reach it`);
  }
  if (
    c.metrics.enabled &&
    !/^(127\.|\[::1\]:|localhost:)/.test(c.metricsListen) &&
    !c.metrics.bearerTokenFile &&
    !c.metrics.clientCaFile
  ) {
    out.push(
      `metricsListen (${c.metricsListen}) is not loopback and has neither metrics.bearerTokenFile nor metrics.clientCaFile; anyone who reaches it reads fleet and lockout state`,
    );
  }
  if (c.staleAfterSeconds <= c.heartbeatSeconds)
    out.push(
      `staleAfterSeconds (${c.staleAfterSeconds}) is not longer than heartbeatSeconds (${c.heartbeatSeconds}); healthy nodes will be marked stale`,
    );
  return out;
}

export interface LoadControllerConfigOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  flags?: Record<string, unknown>;
  cwd?: string;
}

/** Loads and validates the controller config; throws FP_CONFIG_INVALID naming every bad key. */
export function loadControllerConfig(options: LoadControllerConfigOptions = {}): LoadedConfig<ControllerConfig> {
  const env = options.env ?? process.env;
  return loadConfig({
    schema: controllerConfigSchema(options.cwd),
    file: options.file,
    fileRequired: options.file !== undefined,
    env,
    envKeys: TOP_LEVEL_KEYS,
    fileForbidden: AUTH_FILE_FORBIDDEN,
    flags: options.flags,
    warn: warnings,
  });
}
