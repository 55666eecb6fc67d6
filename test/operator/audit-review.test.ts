/**
 * Audit review through the CLI binary: search by operator, action and node with paging; export as CSV and
 * JSON Lines (streamed) that re-import to exactly the stored records and re-verify offline with the same
 * chain walk; a tampered export and a tampered database are each caught, naming the record.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseAuditExport } from '../../controller/audit/export-format';
import { verifyRecords, type AuditRecord } from '../../controller/audit';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { removeRoot } from '../helpers/controller-harness';
import { connectScriptedAgent, type ScriptedAgent } from '../controller/support/scripted-agent';
import { startOperatorEnv, waitUntil, type OperatorEnv } from './support/operator-harness';
import { changeRequestView, listNodeViews } from '../../controller/store';

// Reasons that exercise CSV quoting and JSON escaping: commas, quotes, line breaks, inner blanks, non-ASCII.
const REASONS = [
  'INC-1, "urgent"',
  'line one\nline two\r\nline three',
  'inner  "  blanks',
  'Größe ✓ 日本',
  '=SUM(A1:A2)',
  // Formula injection (issue 23): a spreadsheet must show these as text.
  '=HYPERLINK("http://evil.example/","click")',
  "+cmd|' /C calc'!A0",
  '@SUM(1+1)',
];

let env: OperatorEnv;
let agent: ScriptedAgent;

const stored = (): AuditRecord[] => [...env.tc.ctx.audit.iterate()];

beforeAll(async () => {
  env = await startOperatorEnv();
  env.addOperator('otto', 'operator');
  env.addOperator('vic', 'viewer');
  agent = connectScriptedAgent({ address: env.tc.address, creds: await env.tc.nodeCredentials('seq-7') });
  await waitUntil(() => listNodeViews(env.tc.ctx.store).some((n) => n.online), 10_000, 'the node');
  const svc = env.service;
  for (const reason of REASONS) {
    const r = await svc.requestOperations(env.principal('otto'), {
      selection: { nodeIds: ['seq-7'] },
      backend: Backend.BACKEND_LINUX,
      account: 'ilmnuser',
      action: Action.ACTION_UNLOCK,
      reason,
    });
    await waitUntil(
      () => changeRequestView(env.tc.ctx.store, r.request!.request.id).request.state === 'done',
      5000,
      'the unlock',
    );
  }
});

afterAll(async () => {
  agent?.close();
  await env?.stop();
  if (env) removeRoot(env.tc.root);
});

describe('audit search', () => {
  it('finds by operator and action, newest first, a page at a time', async () => {
    const page1 = await env.cli('vic', [
      'audit',
      '--operator',
      'otto',
      '--action',
      'request.created',
      '--desc',
      '--limit',
      '2',
      '--json',
    ]);
    expect(page1.code).toBe(0);
    const p1 = JSON.parse(page1.stdout) as {
      records: Array<{ seq: number; reason: string; actor: string }>;
      nextCursor: number;
    };
    const newest = [...REASONS].reverse();
    expect(p1.records.map((r) => r.reason)).toEqual([newest[0], newest[1]]);
    expect(p1.nextCursor).toBe(p1.records[1].seq);
    const page2 = await env.cli('vic', [
      'audit',
      '--operator',
      'otto',
      '--action',
      'request.created',
      '--desc',
      '--limit',
      '2',
      '--before',
      String(p1.nextCursor),
      '--json',
    ]);
    expect((JSON.parse(page2.stdout) as { records: Array<{ reason: string }> }).records.map((r) => r.reason)).toEqual([
      newest[2],
      newest[3],
    ]);

    const human = await env.cli('vic', [
      'audit',
      '--node',
      'seq-7',
      '--action',
      'operation.*',
      '--outcome',
      'succeeded',
      '--limit',
      '3',
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout.split('\n').filter((l) => l.includes('operation.succeeded'))).toHaveLength(3);
    expect(human.stdout).toMatch(/more: add --after \d+/);

    const since = await env.cli('vic', [
      'audit',
      '--since',
      '1h',
      '--until',
      '2099-01-01',
      '--action',
      'request.created',
      '--json',
    ]);
    expect((JSON.parse(since.stdout) as { records: unknown[] }).records).toHaveLength(REASONS.length);
    const bad = await env.cli('vic', ['audit', '--since', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('usage: --since must be an ISO 8601 time');
  });
});

describe('audit export', () => {
  for (const format of ['csv', 'jsonl'] as const) {
    it(`${format}: re-imports to exactly the stored records and re-verifies offline`, async () => {
      const file = join(env.tc.root, `audit.${format}`);
      const r = await env.cli('vic', ['audit', 'export', '--format', format, '--output', file]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/^exported \d+ bytes to /);
      const records = parseAuditExport(readFileSync(file, 'utf8'), format);
      const db = stored();
      // The export records itself (audit.exported) before it starts, so it covers everything up to that record.
      expect(records[records.length - 1]).toMatchObject({ action: 'audit.exported', actor: 'vic' });
      expect(records).toEqual(db.slice(0, records.length));
      for (const reason of REASONS) expect(records.some((x) => x.reason === reason)).toBe(true);
      expect(verifyRecords(records)).toMatchObject({
        ok: true,
        total: records.length,
        verifiedThrough: records.length,
      });

      if (format === 'csv') {
        // No cell starts the way a spreadsheet formula does (a cell starts at a line start or after a comma).
        expect(readFileSync(file, 'utf8')).not.toMatch(/(^|,)"?[=+\-@\t]/m);
        expect(readFileSync(file, 'utf8')).toContain(`,"'=HYPERLINK(""http://evil.example/"",""click"")",`);
      }
      const v = await env.cli('vic', ['audit', 'verify', '--file', file]);
      expect(v.code).toBe(0);
      expect(v.stdout).toContain(`audit chain ok (${file}): ${records.length} records`);
    });
  }

  it('refuses to overwrite an existing file unless --force, and records nothing when it refuses', async () => {
    const file = join(env.tc.root, 'existing.jsonl');
    writeFileSync(file, 'keep me\n', { mode: 0o644 });
    const exportsBefore = stored().filter((r) => r.action === 'audit.exported').length;
    const r = await env.cli('vic', ['audit', 'export', '--format', 'jsonl', '--output', file]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `error FP_OUTPUT_EXISTS: ${file} already exists; choose another file or pass --force to replace it`,
    );
    expect(readFileSync(file, 'utf8')).toBe('keep me\n');
    expect(stored().filter((x) => x.action === 'audit.exported')).toHaveLength(exportsBefore);

    const f = await env.cli('vic', ['audit', 'export', '--format', 'jsonl', '--output', file, '--force']);
    expect(f.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const records = parseAuditExport(readFileSync(file, 'utf8'), 'jsonl');
    expect(records[records.length - 1]).toMatchObject({ action: 'audit.exported', actor: 'vic' });
  });

  it('to stdout, filtered: a partial export is checked record by record', async () => {
    const r = await env.cli('vic', ['audit', 'export', '--format', 'jsonl', '--operator', 'otto']);
    expect(r.code).toBe(0);
    const records = parseAuditExport(r.stdout, 'jsonl');
    expect(records.length).toBeGreaterThan(REASONS.length);
    expect(records.every((x) => x.actor === 'otto')).toBe(true);
    const file = join(env.tc.root, 'otto.jsonl');
    writeFileSync(file, r.stdout);
    const whole = await env.cli('vic', ['audit', 'verify', '--file', file]);
    expect(whole.code).toBe(1);
    expect(whole.stdout).toContain('record 1 is missing');
    const v = await env.cli('vic', ['audit', 'verify', '--file', file, '--partial']);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('was checked as a filtered export');
    const tampered = r.stdout.replace('"reason":"INC-1, \\"urgent\\""', '"reason":"INC-2, \\"urgent\\""');
    expect(tampered).not.toBe(r.stdout);
    writeFileSync(file, tampered);
    const t = await env.cli('vic', ['audit', 'verify', '--file', file, '--partial']);
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/BROKEN .* at record \d+: record \d+ was altered/);
  });
});

describe('audit verify detects tampering', () => {
  it('in an export: an edited record, a deleted record', async () => {
    const file = join(env.tc.root, 'audit.jsonl');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const edited = [...lines];
    edited[4] = edited[4].replace(/"actor":"[^"]*"/, '"actor":"mallory"');
    expect(edited[4]).not.toBe(lines[4]);
    writeFileSync(file, `${edited.join('\n')}\n`);
    const e = await env.cli('vic', ['audit', 'verify', '--file', file]);
    expect(e.code).toBe(1);
    expect(e.stdout).toContain(
      `audit chain BROKEN (${file}) at record 5: record 5 was altered: its content does not match its hash`,
    );
    expect(e.stderr.trim()).toBe('error FP_AUDIT_BROKEN: the audit chain is broken at record 5');

    const csv = join(env.tc.root, 'audit.csv');
    const rows = readFileSync(csv, 'utf8').split('\r\n');
    rows.splice(7, 1); // header + records 1..6: drops record 7
    writeFileSync(csv, rows.join('\r\n'));
    const d = await env.cli('vic', ['audit', 'verify', '--file', csv, '--format', 'csv']);
    expect(d.code).toBe(1);
    expect(d.stdout).toContain('at record 7: record 7 is missing (the next record present is 8)');
  });

  it('in the database: a rewritten record is found by `fleetpass audit verify`', async () => {
    const ok = await env.cli('vic', ['audit', 'verify']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^audit chain ok \(controller\): \d+ records/);
    const target = stored().find((r) => r.action === 'request.created' && r.reason === REASONS[0])!;
    // An attacker with the file: drop the append-only trigger and rewrite who asked.
    const raw = new Database(env.tc.config.database);
    raw.exec('DROP TRIGGER audit_log_no_update');
    raw.prepare('UPDATE audit_log SET actor = ? WHERE seq = ?').run('someone-else', target.seq);
    raw.close();
    const bad = await env.cli('vic', ['audit', 'verify', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      source: 'controller',
      ok: false,
      brokenAt: target.seq,
      verifiedThrough: target.seq - 1,
    });
    expect(bad.stderr.trim()).toBe(`error FP_AUDIT_BROKEN: the audit chain is broken at record ${target.seq}`);
  });
});
