/**
 * TEST ONLY (jest setupFilesAfterEnv, both projects): fails the test during which product code called
 * console.*. Product code logs through shared/logger (structured, redacted) or writes to an injected output;
 * a stray console call is a log line that skips redaction. Tests themselves may still print.
 */
import { relative, resolve, sep } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
const calls: string[] = [];

/** The repo-relative file of the first stack frame outside this file, node internals and node_modules. */
function caller(stack: string): string | undefined {
  for (const line of stack.split('\n').slice(1)) {
    const m = /\(?([^\s()]+?\.[cm]?[jt]s):\d+:\d+\)?$/.exec(line.trim());
    if (!m || m[1].startsWith('node:') || m[1].includes(`${sep}node_modules${sep}`) || m[1] === __filename) continue;
    return relative(ROOT, m[1]);
  }
  return undefined;
}

function isProduct(file: string | undefined): boolean {
  if (file === undefined || file.startsWith('..')) return false;
  return !file.startsWith(`test${sep}`) && !file.startsWith(`bench${sep}`) && !/\.test\.ts$/.test(file);
}

// The one place that wraps console: it is what this file checks.
/* eslint-disable no-console */
for (const method of METHODS) {
  const original = console[method].bind(console);
  console[method] = (...args: unknown[]) => {
    const file = caller(new Error().stack ?? '');
    if (isProduct(file)) calls.push(`console.${method} from ${file}: ${args.map(String).join(' ').slice(0, 200)}`);
    original(...args);
  };
}
/* eslint-enable no-console */

function failOnCalls(): void {
  if (calls.length === 0) return;
  const found = calls.splice(0);
  throw new Error(`product code called console (use the logger or an injected output):\n${found.join('\n')}`);
}

afterEach(failOnCalls);
afterAll(failOnCalls);
