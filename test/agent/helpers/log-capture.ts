/** TEST ONLY: a real shared/logger root whose JSON lines are kept in memory, to assert on log output. */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../../shared/logger';

export interface CapturedLog {
  readonly log: Logger;
  /** Every line written so far, raw. */
  text(): string;
  /** Every line parsed. */
  lines(): Record<string, unknown>[];
}

/** A debug-level logger writing into memory (through the real redaction). */
export function captureLog(level = 'debug'): CapturedLog {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ level, destination });
  return {
    log,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
