/**
 * The operation journal: one append-only JSON-lines file in the state dir, plain node:fs (no native
 * module, so the agent stays one bundled file). It records, per operation id:
 *   - `started` (fsynced) before the backend is called. It begins a new attempt: an id retried after a
 *     retryable refusal (FP_NODE_BUSY) loses that refusal and its `sent` mark, so a crash during the retry
 *     reads as interrupted and its new result is sent,
 *   - `result` (fsynced) before the result is sent: an id seen again is answered from here, never re-applied;
 *     a newer result replaces the older one and is unsent until its own `sent`,
 *   - `sent` (not fsynced) once the result was written to a controller stream; results without it are
 *     re-sent after a reconnect (the controller dedupes by operation id).
 * An id with `started` but no `result` was cut off by a crash: the agent does NOT re-apply it (a password
 * may or may not have been set); it reports it FAILED with FP_OPERATION_INTERRUPTED and the state it
 * then observes, and the operator decides. The secret of an operation is never written here.
 * The file is compacted at open (and when it grows): entries past the retention that were sent are dropped;
 * a torn last line (crash mid-write) is discarded; unreadable lines are kept aside in a `.corrupt-*` copy.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../shared/logger';
import type { Clock } from '../shared/clock';
import { FleetpassError } from '../shared/errors';
import { OperationResult } from '../shared/gen/fleetpass/v1/common';
import type { Action, Backend } from '../shared/gen/fleetpass/v1/common';

export const JOURNAL_FILE = 'operations.journal';
const COMPACT_AFTER_APPENDS = 5000;

export interface StartedEntry {
  readonly id: string;
  readonly at: Date;
  readonly backend: Backend;
  readonly account: string;
  readonly action: Action;
}

interface Entry {
  started?: StartedEntry;
  result?: OperationResult;
  resultAt?: Date;
  sent: boolean;
}

type Line =
  | { v: 1; type: 'started'; id: string; at: string; backend: Backend; account: string; action: Action }
  | { v: 1; type: 'result'; id: string; at: string; result: unknown }
  | { v: 1; type: 'sent'; id: string; at: string };

export interface Journal {
  /** The recorded result of an operation id, if it has one. */
  lookup(id: string): OperationResult | undefined;
  /** Operations started but without a result: the agent stopped while applying them. */
  interrupted(): readonly StartedEntry[];
  /** Records (and fsyncs) that an operation is about to be applied, clearing an earlier attempt's result. Throws FP_JOURNAL_FAILED. */
  recordStarted(entry: Omit<StartedEntry, 'at'>): void;
  /** Records (and fsyncs) an operation's result, not yet sent. Throws FP_JOURNAL_FAILED. */
  recordResult(result: OperationResult): void;
  /** Notes that a result was written to a controller stream (best effort, not fsynced). */
  markSent(id: string): void;
  /** Results not yet written to any controller stream, oldest first. */
  unsent(): readonly OperationResult[];
  close(): void;
}

export interface JournalOptions {
  readonly dir: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly retentionDays: number;
}

/** Opens (creating if needed) and compacts the journal in `dir`. Throws FP_JOURNAL_FAILED when it cannot. */
export function openJournal(options: JournalOptions): Journal {
  const log = options.log.child({ component: 'journal' });
  const path = join(options.dir, JOURNAL_FILE);
  const entries = new Map<string, Entry>();
  let fd: number | undefined;
  let appends = 0;

  const fail = (what: string, e: unknown): FleetpassError =>
    new FleetpassError(
      'FP_JOURNAL_FAILED',
      `the agent could not ${what} its operation journal ${path}: ${(e as Error).message}`,
      { cause: e, details: { path } },
    );

  function entry(id: string): Entry {
    let e = entries.get(id);
    if (!e) {
      e = { sent: false };
      entries.set(id, e);
    }
    return e;
  }

  /** A new attempt at an id: what an earlier attempt answered (a retryable refusal) no longer stands. */
  function begin(e: Entry, started: StartedEntry): void {
    e.started = started;
    e.result = undefined;
    e.resultAt = undefined;
    e.sent = false;
  }

  function setResult(e: Entry, result: OperationResult, at: Date): void {
    e.result = result;
    e.resultAt = at;
    e.sent = false;
  }

  function apply(line: Line): void {
    const e = entry(line.id);
    if (line.type === 'started')
      begin(e, {
        id: line.id,
        at: new Date(line.at),
        backend: line.backend,
        account: line.account,
        action: line.action,
      });
    else if (line.type === 'result') setResult(e, OperationResult.fromJSON(line.result), new Date(line.at));
    else e.sent = true;
  }

  function lines(id: string, e: Entry): Line[] {
    const out: Line[] = [];
    if (e.started)
      out.push({
        v: 1,
        type: 'started',
        id,
        at: e.started.at.toISOString(),
        backend: e.started.backend,
        account: e.started.account,
        action: e.started.action,
      });
    if (e.result)
      out.push({
        v: 1,
        type: 'result',
        id,
        at: (e.resultAt ?? options.clock.now()).toISOString(),
        result: OperationResult.toJSON(e.result),
      });
    if (e.sent) out.push({ v: 1, type: 'sent', id, at: (e.resultAt ?? options.clock.now()).toISOString() });
    return out;
  }

  function load(): { torn: boolean; corrupt: number } {
    if (!existsSync(path)) return { torn: false, corrupt: 0 };
    const text = readFileSync(path, 'utf8');
    const raw = text.split('\n');
    const torn = raw[raw.length - 1] !== '';
    let corrupt = 0;
    raw.forEach((l, i) => {
      if (l === '') return;
      try {
        const parsed = JSON.parse(l) as Line;
        if (parsed?.v !== 1 || typeof parsed.id !== 'string' || !['started', 'result', 'sent'].includes(parsed.type))
          throw new Error('unknown entry');
        apply(parsed);
      } catch {
        // A torn last line is the expected trace of a crash mid-append; anything else is damage.
        if (!(torn && i === raw.length - 1)) corrupt += 1;
      }
    });
    return { torn, corrupt };
  }

  function compact(): void {
    const cutoff = options.clock.now().getTime() - options.retentionDays * 86_400_000;
    for (const [id, e] of entries) {
      const at = (e.resultAt ?? e.started?.at)?.getTime() ?? 0;
      if (e.result && e.sent && at < cutoff) entries.delete(id);
    }
    const tmp = `${path}.tmp`;
    const out = openSync(tmp, 'w', 0o600);
    try {
      const body = [...entries]
        .flatMap(([id, e]) => lines(id, e))
        .map((l) => JSON.stringify(l) + '\n')
        .join('');
      writeSync(out, body);
      fsyncSync(out);
    } finally {
      closeSync(out);
    }
    renameSync(tmp, path);
    syncDir(options.dir);
    appends = 0;
  }

  function append(line: Line, durable: boolean): void {
    if (fd === undefined) throw fail('write', new Error('the journal is closed'));
    writeSync(fd, JSON.stringify(line) + '\n');
    if (durable) fsyncSync(fd);
    appends += 1;
  }

  function maybeCompact(): void {
    if (appends < COMPACT_AFTER_APPENDS || fd === undefined) return;
    closeSync(fd);
    fd = undefined;
    compact();
    fd = openSync(path, 'a', 0o600);
  }

  try {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    const { torn, corrupt } = load();
    if (corrupt > 0) {
      const copy = `${path}.corrupt-${options.clock.now().toISOString().replace(/[:.]/g, '-')}`;
      copyFileSync(path, copy);
      log.error({ path, copy, corruptLines: corrupt }, 'journal has unreadable lines; kept a copy and skipped them');
    }
    if (torn) log.warn({ path }, 'journal ended in a torn line; discarded it');
    compact();
    fd = openSync(path, 'a', 0o600);
  } catch (e) {
    throw isJournalError(e) ? e : fail('open', e);
  }
  log.info({ path, operations: entries.size }, 'journal opened');

  return {
    lookup: (id) => entries.get(id)?.result,
    interrupted: () => [...entries.values()].filter((e) => e.started && !e.result).map((e) => e.started!),
    recordStarted(s) {
      const at = options.clock.now();
      try {
        append(
          {
            v: 1,
            type: 'started',
            id: s.id,
            at: at.toISOString(),
            backend: s.backend,
            account: s.account,
            action: s.action,
          },
          true,
        );
      } catch (e) {
        throw isJournalError(e) ? e : fail('write', e);
      }
      begin(entry(s.id), { ...s, at });
    },
    recordResult(result) {
      const at = options.clock.now();
      const e = entry(result.operationId);
      // Memory first: even if the disk fails, this process never applies the id twice.
      setResult(e, result, at);
      try {
        append(
          {
            v: 1,
            type: 'result',
            id: result.operationId,
            at: at.toISOString(),
            result: OperationResult.toJSON(result),
          },
          true,
        );
        maybeCompact();
      } catch (err) {
        throw isJournalError(err) ? err : fail('write', err);
      }
    },
    markSent(id) {
      const e = entries.get(id);
      if (!e || e.sent) return;
      e.sent = true;
      try {
        append({ v: 1, type: 'sent', id, at: options.clock.now().toISOString() }, false);
      } catch (err) {
        log.warn({ err, operationId: id }, 'could not note a sent result; it will be sent again');
      }
    },
    unsent: () => [...entries.values()].filter((e) => e.result && !e.sent).map((e) => e.result!),
    close() {
      if (fd !== undefined) {
        fsyncSync(fd);
        closeSync(fd);
        fd = undefined;
      }
    },
  };
}

function isJournalError(e: unknown): e is FleetpassError {
  return e instanceof FleetpassError && e.code === 'FP_JOURNAL_FAILED';
}

/** fsync the directory so a rename survives a power cut. */
function syncDir(dir: string): void {
  const d = openSync(dir, 'r');
  try {
    fsyncSync(d);
  } finally {
    closeSync(d);
  }
}
