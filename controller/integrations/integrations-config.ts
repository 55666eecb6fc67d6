/**
 * The config of the integrations: `audit.sinks` (where the audit trail is shipped: syslog over TLS, JSON
 * over HTTPS, Splunk HEC) and `metrics` (the /metrics, /healthz, /readyz listener, whose address is the
 * top-level `metricsListen`). Secrets (tokens) are read from files, never written in the config itself.
 */
import { z } from 'zod';

const sinkName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, {
  message: 'must be 1-63 lower-case letters, digits and "-", starting with a letter',
});
const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, { message: 'must be host:port' })
  .refine(
    (s) => {
      const p = Number(s.slice(s.lastIndexOf(':') + 1));
      return p >= 1 && p <= 65535;
    },
    { message: 'port must be 1-65535' },
  );
const httpsUrl = z
  .string()
  .url({ message: 'must be a URL' })
  .refine((u) => u.startsWith('https://'), {
    message: 'must be an https:// URL (the audit trail never travels in clear text)',
  });
const file = z.string().min(1);

/** What every sink has: delivery batch, retry and, for a required sink, the lag that stops changes. */
const common = {
  name: sinkName,
  /** When true, fleetpass refuses audited changes (FP_AUDIT_SINK_BEHIND) while this sink lags beyond maxLagRecords or maxLagSeconds. */
  required: z.boolean().default(false),
  /** Unconfirmed records a required sink may have before changes are refused. */
  maxLagRecords: z.number().int().min(1).default(1000),
  /** Age of the oldest unconfirmed record a required sink may have before changes are refused. */
  maxLagSeconds: z.number().int().min(1).default(300),
  /** Records per delivery. */
  batchSize: z.number().int().min(1).max(1000).default(500),
  /** Longest wait between retries after a failed delivery (the wait doubles from 1 s up to this). */
  maxRetrySeconds: z.number().positive().max(3600).default(30),
  /** Where a new sink starts: from the first record ("beginning") or from the records written after it was added ("now"). */
  startAt: z.enum(['beginning', 'now']).default('beginning'),
  /** PEM bundle of the CA(s) the receiver's certificate must chain to; only these are trusted (pinned). */
  caFile: file.optional(),
  /** Client certificate and key for receivers that ask for one (mutual TLS). */
  clientCertFile: file.optional(),
  clientKeyFile: file.optional(),
};

const SYSLOG_FACILITIES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;
export type SyslogFacility = (typeof SYSLOG_FACILITIES)[number];

const syslogSink = z
  .object({
    ...common,
    type: z.literal('syslog'),
    /** The collector's TLS syslog port (RFC 5425: 6514). */
    address: hostPort,
    caFile: file,
    /** The name the collector's certificate must carry; defaults to the host of `address`. */
    serverName: z.string().min(1).optional(),
    facility: z.enum(SYSLOG_FACILITIES).default('authpriv'),
    /** The HOSTNAME field; defaults to the machine's name. */
    hostname: z
      .string()
      .regex(/^[!-~]{1,255}$/, { message: 'must be 1-255 printable characters without spaces' })
      .optional(),
    /** The SD-ID enterprise number (RFC 5424 section 7.2.2); 32473 is the one reserved for documentation. */
    enterpriseId: z.number().int().positive().default(32473),
    /**
     * Syslog over TLS has no acknowledgement: a record counts as delivered once the connection stayed up
     * this long after it was written. A connection that ends sooner gets everything since the last
     * delivered record again (duplicates carry the same seq).
     */
    confirmAfterMs: z.number().int().min(50).max(60_000).default(1000),
  })
  .strict();

const httpsJsonSink = z
  .object({
    ...common,
    type: z.literal('https-json'),
    /** Receives POST application/json: an array of audit events. Any 2xx answer means the batch was delivered. */
    url: httpsUrl,
    /** A file holding a bearer token sent as Authorization: Bearer <token>. */
    bearerTokenFile: file.optional(),
    /** Extra non-secret headers. */
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/), z.string().max(1024)).default({}),
    timeoutSeconds: z.number().positive().max(300).default(30),
  })
  .strict();

const splunkHecSink = z
  .object({
    ...common,
    type: z.literal('splunk-hec'),
    /** The HEC base URL, e.g. https://splunk.example.org:8088 (the paths /services/collector/event and /ack are added). */
    url: httpsUrl,
    /** A file holding the HEC token; the token must have indexer acknowledgement enabled. */
    tokenFile: file,
    index: z.string().min(1).optional(),
    source: z.string().min(1).default('fleetpass'),
    sourcetype: z.string().min(1).default('fleetpass:audit'),
    /** How often the ack endpoint is asked about outstanding batches. */
    ackPollSeconds: z.number().positive().max(300).default(2),
    /** A batch whose ack has not come in this long is sent again (its old ack is still accepted if it comes late). */
    ackTimeoutSeconds: z.number().positive().max(3600).default(120),
    timeoutSeconds: z.number().positive().max(300).default(30),
  })
  .strict();

export const sinkSchema = z.discriminatedUnion('type', [syslogSink, httpsJsonSink, splunkHecSink]);
export type SinkConfig = z.output<typeof sinkSchema>;
export type SyslogSinkConfig = z.output<typeof syslogSink>;
export type HttpsJsonSinkConfig = z.output<typeof httpsJsonSink>;
export type SplunkHecSinkConfig = z.output<typeof splunkHecSink>;

/** `audit.sinks`: names must be unique (each has its own cursor in the database). */
export const auditSinksSchema = z
  .array(sinkSchema)
  .default([])
  .superRefine((sinks, ctx) => {
    const seen = new Set<string>();
    sinks.forEach((s, i) => {
      if (seen.has(s.name))
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: `sink names must be unique; "${s.name}" is used twice`,
        });
      seen.add(s.name);
      if ((s.clientCertFile === undefined) !== (s.clientKeyFile === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: [i, s.clientCertFile ? 'clientKeyFile' : 'clientCertFile'],
          message: 'clientCertFile and clientKeyFile go together',
        });
      }
    });
  });

/** `metrics`: the listener at `metricsListen` and who may read it. */
export const metricsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** A file holding a bearer token every request must carry (Authorization: Bearer <token>). */
    bearerTokenFile: file.optional(),
    /** Serve HTTPS with the controller's server certificate and require a client certificate from this CA bundle ("controller-ca": the controller's own CA). */
    clientCaFile: file.optional(),
    /** How often the whole audit chain is verified for fleetpass_audit_integrity and /readyz (it is also verified at start). */
    integrityCheckSeconds: z.number().positive().max(86_400).default(600),
  })
  .strict();
export type MetricsConfig = z.output<typeof metricsSchema>;
export const DEFAULT_METRICS_CONFIG = { enabled: true, integrityCheckSeconds: 600 } as const;
