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
    operationId: id,
    outcome,
    errorCode: '',
    message: '',
    before: undefined,
    after: undefined,
    started: clock.now(),
    finished: clock.now(),
    replayed: false,
    failedStep: '',
    notes: ['a note'],
  };
}
const started = (id: string) => ({
  id,
  backend: Backend.BACKEND_LINUX,
  account: 'ilmnuser',
  action: Action.ACTION_RESET_PASSWORD,
});

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
    const lines = readFileSync(join(d, JOURNAL_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['started', 'result']);
    expect(JSON.stringify(lines)).not.toMatch(/secret/i);
    expect(existsSync(join(d, `${JOURNAL_FILE}.tmp`))).toBe(false);
  });

  it('starts a retried id afresh: a crash after a retryable refusal reads as interrupted, in memory and from disk', () => {
    const d = dir();
    const j = open(d);
    const busy = { ...result('op-retry', OperationOutcome.OPERATION_OUTCOME_REFUSED), errorCode: 'FP_NODE_BUSY' };
    j.recordResult(busy);
    j.markSent('op-retry');
    j.recordStarted(started('op-retry'));
    expect(j.lookup('op-retry')).toBeUndefined();
    expect(j.interrupted().map((s) => s.id)).toEqual(['op-retry']);
    // no close(): the process died while applying the retry
    const again = open(d);
    expect(again.lookup('op-retry')).toBeUndefined();
    expect(again.interrupted().map((s) => s.id)).toEqual(['op-retry']);
    expect(again.unsent()).toEqual([]);
    again.close();
    // Compacted at the last open: the rewritten file says the same.
    expect(
      open(d)
        .interrupted()
        .map((s) => s.id),
    ).toEqual(['op-retry']);
  });

  it('sends a newer result for an id again although the older one was sent, also after a reopen', () => {
    const d = dir();
    const j = open(d);
    const busy = { ...result('op-retry', OperationOutcome.OPERATION_OUTCOME_REFUSED), errorCode: 'FP_NODE_BUSY' };
    j.recordResult(busy);
    j.markSent('op-retry');
    expect(j.unsent()).toEqual([]);
    // Busy again at the next delivery: refused before any start, a new answer all the same.
    j.recordResult({ ...busy, message: 'still busy' });
    expect(j.unsent().map((r) => r.message)).toEqual(['still busy']);
    j.markSent('op-retry');
    j.recordStarted(started('op-retry'));
    j.recordResult(result('op-retry'));
    expect(j.unsent()).toEqual([result('op-retry')]);
    // no close(): the stream dropped and the agent stopped before the result went out
    const again = open(d);
    expect(again.lookup('op-retry')).toEqual(result('op-retry'));
    expect(again.unsent()).toEqual([result('op-retry')]);
    expect(again.interrupted()).toEqual([]);
    again.markSent('op-retry');
    again.close();
    expect(open(d).unsent()).toEqual([]);
  });
});
