/**
 * The one root logger. Redaction is configured here once: any field whose name suggests a secret is
 * replaced by "[redacted]" at any depth, so a password can never reach a log line by accident. Errors are
 * serialized first (pino's err serializer) and redacted like any other object: their `details`, other own
 * fields and `cause` chain included; messages and stacks are kept as they are.
 */
import { types } from 'node:util';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Field names (case-insensitive, ignoring _ and -) that always carry a secret. */
const SECRET_KEY_NAMES = [
  'password',
  'newPassword',
  'oldPassword',
  'newSecret',
  'secret',
  'secrets',
  'token',
  'apiToken',
  'accessToken',
  'authorization',
  'cookie',
  'setCookie',
  'privateKey',
  'keyPem',
  'masterKey',
  'dataKey',
  'passphrase',
  'generatedPasswords',
  'credential',
  'credentials',
  'serviceAccountPassword',
  'csrfToken',
  'sessionId',
];
const SECRET_KEYS = new Set(SECRET_KEY_NAMES.map(normalize));

/** pino redact paths for child bindings, which the log formatter does not see: each spelling, top level. */
const BINDING_PATHS = [
  ...new Set(
    SECRET_KEY_NAMES.flatMap((k) => [
      k,
      k.toLowerCase(),
      k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
    ]),
  ),
].map((k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`));

export const REDACTED = '[redacted]';

function normalize(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, '');
}

/** True when a field of this name must never be logged. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(normalize(key));
}

/**
 * Deep copy of `value` with every secret-named field replaced; cycles and depth are bounded. An Error becomes
 * a plain object (type, message, stack, its own fields such as code and details, and its cause, redacted).
 */
export function redactSecrets(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8 || seen.has(value)) return '[truncated]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1, seen));
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const error = isError(value);
  const source = error ? pino.stdSerializers.err(value) : value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(source)) {
    out[k] = isSecretKey(k) ? REDACTED : redactSecrets(v, depth + 1, seen);
  }
  if (error) addCause(out, value, depth, seen);
  return out;
}

/**
 * pino's serializer folds an Error cause into the message and stack only and drops the cause's own fields
 * (details); they go in as `cause`, redacted, without a second copy of the stack.
 */
function addCause(out: Record<string, unknown>, err: Error, depth: number, seen: WeakSet<object>): void {
  const cause: unknown = err.cause;
  if (cause === undefined || out.cause !== undefined) return;
  const redacted = redactSecrets(cause, depth + 1, seen);
  if (isError(cause) && redacted !== null && typeof redacted === 'object')
    delete (redacted as Record<string, unknown>).stack;
  out.cause = redacted;
}

/** Serializer for `err`/`error` fields the log formatter did not see (child bindings); idempotent. */
function errorSerializer(value: unknown): unknown {
  return isError(value) ? redactSecrets(value) : value;
}

/** An Error from any realm (errors made by Node itself are not `instanceof` a test sandbox's Error). */
function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

export interface LoggerSettings {
  level?: string;
  name?: string;
  /** Where lines go; stdout by default. Tests pass a stream to assert on output. */
  destination?: DestinationStream;
}

/** Creates the process's root logger; components take children of it. */
export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? process.env.FLEETPASS_LOG_LEVEL ?? 'info',
    name: settings.name,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => redactSecrets(object) as Record<string, unknown>,
    },
    redact: { paths: BINDING_PATHS, censor: REDACTED },
    // The log formatter has already turned errors into redacted plain objects; pino's err serializer would
    // serialize those again (as type "Object"), so this one passes anything but an Error through.
    serializers: { err: errorSerializer, error: errorSerializer },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}

/** A logger that writes nothing, for library callers that do not care. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
