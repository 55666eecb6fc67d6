/**
 * Audit exports as CSV (RFC 4180, a header row, formula cells neutralised) or JSON Lines, and back. Every stored field is kept
 * exactly (details_json as its canonical string, prev_hash and hash included), so an export re-imports to
 * the same records and re-verifies with the same chain walk as the database (controller/audit verifyRecords).
 */
import { FleetpassError } from '../../shared/errors';
import type { AuditRecord } from './audit-log';

export type ExportFormat = 'csv' | 'jsonl';

/** Column names, in order: the database's own. */
export const EXPORT_COLUMNS = [
  'seq',
  'time',
  'actor',
  'action',
  'node_id',
  'account',
  'operation_id',
  'request_id',
  'outcome',
  'reason',
  'details_json',
  'prev_hash',
  'hash',
] as const;
type Column = (typeof EXPORT_COLUMNS)[number];

const FIELD: Record<Column, keyof AuditRecord> = {
  seq: 'seq',
  time: 'time',
  actor: 'actor',
  action: 'action',
  node_id: 'nodeId',
  account: 'account',
  operation_id: 'operationId',
  request_id: 'requestId',
  outcome: 'outcome',
  reason: 'reason',
  details_json: 'detailsJson',
  prev_hash: 'prevHash',
  hash: 'hash',
};

/**
 * A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return before one) as a formula
 * (OWASP "CSV injection"), so such a cell gets a leading apostrophe, which spreadsheets show as text. To keep
 * the export exact, a cell that already starts with an apostrophe gets one too; reading strips exactly one.
 */
const FORMULA_START = /^[=+\-@\t\r']/;

function csvField(v: string | number): string {
  let s = String(v);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]|^\s|\s$|^'/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The stored value of a CSV cell: the neutralising apostrophe (see csvField) removed. */
function csvValue(field: string): string {
  return field.startsWith("'") ? field.slice(1) : field;
}

/** One record as a line of the format (with its newline). */
export function formatRecord(r: AuditRecord, format: ExportFormat): string {
  if (format === 'jsonl') {
    const o: Record<string, string | number> = {};
    for (const c of EXPORT_COLUMNS) o[c] = r[FIELD[c]];
    return `${JSON.stringify(o)}\n`;
  }
  return `${EXPORT_COLUMNS.map((c) => csvField(r[FIELD[c]])).join(',')}\r\n`;
}

/** The export as text chunks of about `chunkBytes` (the CSV header first), for streaming. */
export function* formatExport(
  records: Iterable<AuditRecord>,
  format: ExportFormat,
  chunkBytes = 64 * 1024,
): IterableIterator<string> {
  let buf = format === 'csv' ? `${EXPORT_COLUMNS.join(',')}\r\n` : '';
  for (const r of records) {
    buf += formatRecord(r, format);
    if (buf.length >= chunkBytes) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

function invalid(line: number, why: string): FleetpassError {
  return new FleetpassError('FP_AUDIT_EXPORT_INVALID', `the audit export is not valid at line ${line}: ${why}`, {
    details: { line },
  });
}

function toRecord(values: Record<string, unknown>, line: number): AuditRecord {
  const out: Record<string, string | number> = {};
  for (const c of EXPORT_COLUMNS) {
    const v = values[c];
    if (c === 'seq') {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n) || n < 1) throw invalid(line, 'seq must be a positive whole number');
      out.seq = n;
    } else {
      if (typeof v !== 'string') throw invalid(line, `${c} is missing or not text`);
      out[FIELD[c]] = v;
    }
  }
  return out as unknown as AuditRecord;
}

/** Splits CSV text into rows of fields, with the line each row starts on (quoted fields may span lines). */
function parseCsvRows(text: string): Array<{ line: number; fields: string[] }> {
  const rows: Array<{ line: number; fields: string[] }> = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let i = 0;
  const endRow = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
  };
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        if (i < text.length && !/[,\r\n]/.test(text[i]))
          throw invalid(line, 'a quoted field must end at a comma or the end of the line');
        continue;
      }
      if (ch === '\n') line++;
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') {
      quoted = true;
      i++;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
      i++;
    } else if (ch === '\r' || ch === '\n') {
      endRow();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      rowLine = line;
    } else {
      if (ch === '"') throw invalid(line, 'a quote inside an unquoted field');
      field += ch;
      i++;
    }
  }
  if (quoted) throw invalid(rowLine, 'a quoted field is not closed');
  if (field !== '' || fields.length > 0) endRow();
  return rows;
}

/** Reads an export back into records; throws FP_AUDIT_EXPORT_INVALID naming the first bad line. */
export function parseAuditExport(text: string, format: ExportFormat): AuditRecord[] {
  if (format === 'jsonl') {
    const records: AuditRecord[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i].replace(/\r$/, '');
      if (!l.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(l);
      } catch {
        throw invalid(i + 1, 'not a JSON object');
      }
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalid(i + 1, 'not a JSON object');
      records.push(toRecord(value as Record<string, unknown>, i + 1));
    }
    return records;
  }
  const rows = parseCsvRows(text);
  if (rows.length === 0) throw invalid(1, 'the file is empty');
  const header = rows[0].fields;
  if (header.join(',') !== EXPORT_COLUMNS.join(','))
    throw invalid(rows[0].line, `the header must be ${EXPORT_COLUMNS.join(',')}`);
  return rows.slice(1).map(({ line, fields }) => {
    if (fields.length !== EXPORT_COLUMNS.length)
      throw invalid(line, `expected ${EXPORT_COLUMNS.length} fields, found ${fields.length}`);
    return toRecord(Object.fromEntries(EXPORT_COLUMNS.map((c, k) => [c, csvValue(fields[k])])), line);
  });
}

/** The format of an export file by its content: JSON Lines start with "{", CSV with the header. */
export function detectExportFormat(text: string): ExportFormat {
  return text.trimStart().startsWith('{') ? 'jsonl' : 'csv';
}
