/**
 * `fleetpass-agent enroll --controller HOST:PORT --ca-fingerprint sha256:... --token-file FILE | < stdin`:
 * gets this node its certificate with a one-time token (agent/enroll/enroll-node.ts) and stores it at the
 * config's controller.caFile/certFile/keyFile. The token is a secret until used, so it is read from a
 * file or stdin, never from argv. Exit codes: 0 enrolled, 1 failed, 2 usage.
 */
import { readFileSync } from 'node:fs';
import { FleetpassError } from '../../shared/errors';
import { loadAgentConfig } from '../config';
import { enrollNode } from '../enroll/enroll-node';
import { configFile, errorLine, type CommandIo } from './command-io';

export interface EnrollOptions {
  config?: string;
  controller?: string;
  caFingerprint?: string;
  tokenFile?: string;
  /** Refused: present only to say why. */
  token?: string;
  force?: boolean;
  timeoutSeconds?: string;
}

export interface EnrollIo extends CommandIo {
  /** All of stdin, when it is not a terminal; undefined when it is one. */
  readStdin(): Promise<string | undefined>;
}

/** First non-empty line, trimmed. */
function firstLine(text: string): string {
  return (
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? ''
  );
}

async function readToken(opts: EnrollOptions, io: EnrollIo): Promise<string | { usage: string }> {
  if (opts.tokenFile) {
    try {
      return firstLine(readFileSync(opts.tokenFile, 'utf8'));
    } catch (e) {
      throw new FleetpassError(
        'FP_INVALID_ARGUMENT',
        `cannot read the token file ${opts.tokenFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }
  const stdin = await io.readStdin();
  if (stdin === undefined) return { usage: 'no enrollment token: give --token-file FILE or pipe the token on stdin' };
  return firstLine(stdin);
}

/** Runs the enrollment; returns the exit code. */
export async function enrollCommand(opts: EnrollOptions, io: EnrollIo): Promise<number> {
  if (opts.token !== undefined) {
    io.err(
      'usage: the enrollment token is a secret and is not taken on the command line (other users can read argv): use --token-file FILE or stdin',
    );
    return 2;
  }
  if (!opts.caFingerprint) {
    io.err(
      "usage: --ca-fingerprint sha256:... is required: it pins the controller's CA so the token is sent to no one else",
    );
    return 2;
  }
  const timeout = opts.timeoutSeconds === undefined ? 30 : Number(opts.timeoutSeconds);
  if (!Number.isFinite(timeout) || timeout <= 0) {
    io.err('usage: --timeout must be a number of seconds');
    return 2;
  }
  try {
    const file = configFile(opts.config, io.env);
    // Without --config (or FLEETPASS_CONFIG) a missing default file means: use the built-in defaults.
    const { config } = loadAgentConfig({
      file,
      fileRequired: opts.config !== undefined || io.env.FLEETPASS_CONFIG !== undefined,
      env: io.env,
    });
    const token = await readToken(opts, io);
    if (typeof token !== 'string') {
      io.err(`usage: ${token.usage}`);
      return 2;
    }
    const node = await enrollNode({
      controller: config.controller,
      address: opts.controller,
      caFingerprint: opts.caFingerprint,
      token,
      hostname: config.hostname,
      force: opts.force,
      timeoutMs: timeout * 1000,
    });
    io.out(`enrolled as node ${node.nodeId}; certificate valid until ${node.notAfter.toISOString()}`);
    if (Object.keys(node.labels).length)
      io.out(
        `labels: ${Object.entries(node.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`,
      );
    io.out(`key: ${node.files.keyFile} (0600)  certificate: ${node.files.certFile}  CA: ${node.files.caFile}`);
    io.out('next: start the agent (systemctl start fleetpass-agent, or fleetpass-agent run)');
    return 0;
  } catch (e) {
    io.err(errorLine(e));
    return 1;
  }
}

/** Reads stdin to the end unless it is a terminal. */
export async function readProcessStdin(): Promise<string | undefined> {
  if (process.stdin.isTTY) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks).toString('utf8');
}
