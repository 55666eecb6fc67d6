import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeClock } from '../shared/clock';
import { silentLogger } from '../shared/logger';
import { Action, Backend, OperationOutcome, type OperationResult } from '../shared/gen/fleetpass/v1/common';
import { JOURNAL_FILE, openJournal } from './journal';

const clock = fakeClock('2026-03-01T10:00:00Z');
const open = (dir: string, retentionDays = 30) => openJournal({ dir, clock, log: silentLogger(), retentionDays });
const dir = () => mkdtempSync(join(tmpdir(), 'fp-journal-'));

function result(id: string, outcome = OperationOutcome.OPERATION_OUTCOME_SUCCEEDED): OperationResult {
  return {
    operationId: id, outcome, errorCode: '', message: '', before: undefined, after: undefined, started: clock.now(), finished: clock.now(),
    replayed: false, failedStep: '', notes: ['a note'],
  };
}
const started = (id: string) => ({ id, backend: Backend.BACKEND_LINUX, account: 'ilmnuser', action: Action.ACTION_RESET_PASSWORD });

describe('operation journal', () => {
  it('remembers results across a reopen, and which were sent', () => {
    const d = dir();
    const j = open(d);
    j.recordStarted(started('op-1'));
    j.recordResult(result('op-1'));
    j.recordStarted(started('op-2'));
    j.recordResult(result('op-2'));
    j.markSent('op-1');
    j.close();
    const again = open(d);
    expect(again.lookup('op-1')).toEqual(result('op-1'));
    expect(again.lookup('op-3')).toBeUndefined();
    expect(again.unsent().map((r) => r.operationId)).toEqual(['op-2']);
    expect(again.interrupted()).toEqual([]);
  });

  it('lists an operation started but never finished as interrupted after a crash', () => {
    const d = dir();
    const j = open(d);
    j.recordStarted(started('op-crash'));
    // no close(): the process died
    const again = open(d);
    expect(again.interrupted()).toEqual([{ ...started('op-crash'), at: clock.now() }]);
    expect(again.lookup('op-crash')).toBeUndefined();
  });

  it('discards a torn last line and keeps going', () => {
    const d = dir();
    const j = open(d);
    j.recordResult(result('op-1'));
    j.close();
    appendFileSync(join(d, JOURNAL_FILE), '{"v":1,"type":"result","id":"op-2","at":"2026');
    const again = open(d);
    expect(again.lookup('op-1')).toBeDefined();
    expect(again.lookup('op-2')).toBeUndefined();
    again.recordResult(result('op-3'));
    again.close();
    expect(open(d).lookup('op-3')).toBeDefined();
  });

  it('keeps a copy of a journal with damaged lines and skips them', () => {
    const d = dir();
    writeFileSync(join(d, JOURNAL_FILE), 'garbage\n{"v":1,"type":"sent","id":"x","at":"2026-03-01T10:00:00Z"}\n');
    open(d).close();
    expect(readdirSync(d).filter((f) => f.startsWith(`${JOURNAL_FILE}.corrupt-`))).toHaveLength(1);
  });

  it('drops sent results past the retention when compacting, never unsent ones', () => {
    const d = dir();
    const j = open(d, 1);
    j.recordResult(result('old-sent'));
    j.markSent('old-sent');
    j.recordResult(result('old-unsent'));
    j.close();
    clock.advance(2 * 86_400_000);
    const again = open(d, 1);
    expect(again.lookup('old-sent')).toBeUndefined();
    expect(again.lookup('old-unsent')).toBeDefined();
  });

  it('fails with FP_JOURNAL_FAILED when the state dir cannot be used', () => {
    const d = dir();
    const file = join(d, 'not-a-dir');
    writeFileSync(file, 'x');
    expect(() => open(file)).toThrow(expect.objectContaining({ code: 'FP_JOURNAL_FAILED' }));
  });

  it('writes one JSON line per record with no operation secret field', () => {
    const d = dir();
    const j = open(d);
    j.recordStarted(started('op-1'));
    j.recordResult(result('op-1'));
    j.close();
    const lines = readFileSync(join(d, JOURNAL_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['started', 'result']);
    expect(JSON.stringify(lines)).not.toMatch(/secret/i);
    expect(existsSync(join(d, `${JOURNAL_FILE}.tmp`))).toBe(false);
  });
});
