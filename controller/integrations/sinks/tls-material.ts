/**
 * TLS settings for a sink's receiver: the pinned CA bundle (only it is trusted, not the system store)
 * and an optional client certificate. Files are read once when the sink is created; a missing or
 * unreadable file stops the start with FP_TLS_MATERIAL naming it.
 */
import { readFileSync } from 'node:fs';
import { FleetpassError } from '../../../shared/errors';

export interface SinkTls {
  ca?: string;
  cert?: string;
  key?: string;
}

function read(sink: string, key: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new FleetpassError('FP_TLS_MATERIAL', `audit sink "${sink}": cannot read ${key} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e, details: { sink, file } });
  }
}

export function loadSinkTls(c: { name: string; caFile?: string; clientCertFile?: string; clientKeyFile?: string }): SinkTls {
  return {
    ca: c.caFile ? read(c.name, 'caFile', c.caFile) : undefined,
    cert: c.clientCertFile ? read(c.name, 'clientCertFile', c.clientCertFile) : undefined,
    key: c.clientKeyFile ? read(c.name, 'clientKeyFile', c.clientKeyFile) : undefined,
  };
}

/** Reads a one-line secret (token) file; the value never appears in any message. */
export function readSecretFile(sink: string, key: string, file: string): string {
  const v = read(sink, key, file).trim();
  if (!v) throw new FleetpassError('FP_CONFIG_INVALID', `audit sink "${sink}": ${key} ${file} is empty`, { details: { sink, file } });
  return v;
}
