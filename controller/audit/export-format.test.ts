import { FleetpassError } from '../../shared/errors';
import { hashAuditRecord, type AuditRecord } from '../audit';
import { EXPORT_COLUMNS, formatExport, parseAuditExport } from './export-format';

function rec(seq: number, over: Partial<AuditRecord> = {}): AuditRecord {
  const r = {
    seq,
    time: '2026-03-01T10:00:00.000Z',
    actor: 'otto',
    action: 'request.created',
    nodeId: 'n1',
    account: 'ilmnuser',
    operationId: '',
    requestId: 'r1',
    outcome: 'approved',
    reason: 'T-1',
    detailsJson: '{"a":1}',
    prevHash: '0'.repeat(64),
    hash: '',
    ...over,
  };
  return { ...r, hash: hashAuditRecord(r) };
}

const tricky = [
  rec(1, { reason: '  leading and trailing  ' }),
  rec(2, { reason: 'a,b "c" d' }),
  rec(3, { reason: 'one\ntwo\r\nthree\rfour' }),
  rec(4, { reason: '', nodeId: '', detailsJson: '{"note":"x,\\"y\\"\\n"}' }),
  rec(5, { reason: '"', actor: 'node:n1' }),
  rec(6, { reason: 'Größe ✓ 日本 😀' }),
  rec(7, { reason: "'already quoted", actor: "''" }),
];

// Cells a spreadsheet would run as formulas (OWASP CSV injection), the issue's own among them.
const DANGEROUS = [
  '=HYPERLINK("http://evil.example/","click")',
  "+cmd|' /C calc'!A0",
  '-2+3',
  '@SUM(A1:A2)',
  '\t=1+1',
  '\r=1+1',
];

describe('audit export formats', () => {
  for (const format of ['csv', 'jsonl'] as const) {
    it(`${format} round-trips every field exactly, in small chunks too`, () => {
      const text = [...formatExport(tricky, format, 10)].join('');
      expect(parseAuditExport(text, format)).toEqual(tricky);
    });
  }

  it('csv: neutralises every cell a spreadsheet would read as a formula, and reads it back exactly', () => {
    const records = DANGEROUS.map((reason, i) => rec(i + 1, { reason, account: reason }));
    const text = [...formatExport(records, 'csv')].join('');
    const rows = parseCsvCells(text).slice(1);
    for (const [i, row] of rows.entries()) {
      for (const cell of [row[5], row[9]]) expect(cell).toBe(`'${DANGEROUS[i]}`);
      for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    }
    expect(parseAuditExport(text, 'csv')).toEqual(records);
  });

  it('writes the CSV header with the database column names, and CRLF rows', () => {
    const text = [...formatExport([tricky[1]], 'csv')].join('');
    expect(text.split('\r\n')[0]).toBe(EXPORT_COLUMNS.join(','));
    expect(text).toContain(',"a,b ""c"" d",');
  });

  it.each([
    ['csv', 'seq,time\r\n1,x\r\n', /line 1: the header must be/],
    ['csv', `${EXPORT_COLUMNS.join(',')}\r\n1,2,3\r\n`, /line 2: expected 13 fields, found 3/],
    ['csv', `${EXPORT_COLUMNS.join(',')}\r\n"open`, /line 2: a quoted field is not closed/],
    ['csv', `${EXPORT_COLUMNS.join(',')}\r\nab"c`, /line 2: a quote inside an unquoted field/],
    ['jsonl', '{"seq":1}\nnot json\n', /line 1: time is missing/],
    [
      'jsonl',
      `${JSON.stringify({ ...Object.fromEntries(EXPORT_COLUMNS.map((c) => [c, ''])), seq: 1 })}\n[1]\n`,
      /line 2: not a JSON object/,
    ],
    [
      'jsonl',
      `${JSON.stringify({ ...Object.fromEntries(EXPORT_COLUMNS.map((c) => [c, ''])), seq: -3 })}\n`,
      /line 1: seq must be a positive whole number/,
    ],
  ] as const)('refuses a damaged %s file, naming the line', (format, text, problem) => {
    let err: unknown;
    try {
      parseAuditExport(text, format);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FleetpassError);
    expect((err as FleetpassError).code).toBe('FP_AUDIT_EXPORT_INVALID');
    expect((err as FleetpassError).message).toMatch(problem);
  });
});

/** The raw cells of a CSV text as a spreadsheet sees them (quotes resolved, nothing else undone). */
function parseCsvCells(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted && ch === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (!quoted && ch === ',') {
      row.push(cell);
      cell = '';
    } else if (!quoted && ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else {
      cell += ch;
    }
  }
  return rows;
}
