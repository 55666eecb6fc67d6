import { closeSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPrivateLogFile } from './private-log-file';

describe('openPrivateLogFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fp-log-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a new log 0600', () => {
    const file = join(dir, 'new.log');
    closeSync(openPrivateLogFile(file));
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('narrows an existing 0644 log to 0600 and appends to it', () => {
    const file = join(dir, 'old.log');
    writeFileSync(file, 'first\n', { mode: 0o644 });
    const fd = openPrivateLogFile(file);
    writeSync(fd, 'second\n');
    closeSync(fd);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe('first\nsecond\n');
  });
});
