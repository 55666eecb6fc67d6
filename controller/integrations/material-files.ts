/**
 * The files the integrations read once at start: a sink receiver's pinned CA bundle (only it is trusted,
 * not the system store) and optional client certificate, and token files (HEC, bearer tokens). A missing
 * or unreadable file stops the start with FP_TLS_MATERIAL naming it; a token never appears in a message.
 */
import { readFileSync } from 'node:fs';
import { FleetpassError } from '../../shared/errors';

export interface SinkTls {
  ca?: string;
  cert?: string;
  key?: string;
}

/** `owner` names the setting's section in messages, e.g. 'audit sink "splunk"' or 'metrics'. */
function read(owner: string, key: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new FleetpassError(
      'FP_TLS_MATERIAL',
      `${owner}: cannot read ${key} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { cause: e, details: { file } },
    );
  }
}

export function loadSinkTls(c: {
  name: string;
  caFile?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
}): SinkTls {
  const owner = `audit sink "${c.name}"`;
  return {
    ca: c.caFile ? read(owner, 'caFile', c.caFile) : undefined,
    cert: c.clientCertFile ? read(owner, 'clientCertFile', c.clientCertFile) : undefined,
    key: c.clientKeyFile ? read(owner, 'clientKeyFile', c.clientKeyFile) : undefined,
  };
}

/** Reads a one-line secret (token) or PEM file; a token's value never appears in any message. */
export function readSecretFile(owner: string, key: string, file: string): string {
  const v = read(owner, key, file).trim();
  if (!v) throw new FleetpassError('FP_CONFIG_INVALID', `${owner}: ${key} ${file} is empty`, { details: { file } });
  return v;
}
