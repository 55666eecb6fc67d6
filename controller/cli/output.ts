/** How the CLI talks to people and scripts: tables for humans, JSON with --json, one-sentence errors. */
import Table from 'cli-table3';
import { isFleetpassError } from '../../shared/errors';
import { UsageError } from '../../shared/usage-error';

export interface Output {
  /** A line for a person (stdout). */
  line(text?: string): void;
  /** A machine-readable document (stdout, one JSON value). */
  json(value: unknown): void;
  /** A problem (stderr). */
  error(text: string): void;
}

export const processOutput: Output = {
  line: (text = '') => process.stdout.write(`${text}\n`),
  json: (value) => process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`),
  error: (text) => process.stderr.write(`${text}\n`),
};

/** Dates as ISO strings; everything else as is. */
function jsonReplacer(_key: string, value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

/** Renders rows as a plain table with a header. */
export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

export { shortDuration } from '../../shared/short-duration';

/** "FP_CODE: sentence" for a FleetpassError; a generic sentence otherwise. */
export function errorLine(e: unknown): string {
  if (isFleetpassError(e)) return `error ${e.code}: ${e.message}`;
  return `error FP_INTERNAL: ${(e as Error)?.message ?? String(e)}`;
}

/** Labels as "k=v,k=v". */
export function formatLabels(labels: Record<string, string>): string {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Parses repeated "--label k=v" values into a map; a value without "=" is a usage error. */
export function parseLabels(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i <= 0) throw new UsageError(`a label selector must look like key=value, got ${JSON.stringify(v)}`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/** Bad command-line usage: exit code 2. */
export { UsageError };
