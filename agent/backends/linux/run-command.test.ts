import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetpassError } from '../../../shared/errors';
import { findCommand, runCommand, scrubOutput } from './run-command';

/** 'gone', or the state letter from /proc (Z: killed, waiting for an adopting parent to reap it). */
function processState(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .charAt(0);
  } catch {
    return 'gone';
  }
}

describe('runCommand', () => {
  it('passes input on stdin and returns the output', async () => {
    const r = await runCommand('cat', [], { input: 'hello\n' });
    expect(r).toEqual({ stdout: 'hello\n', stderr: '', code: 0 });
  });

  it('treats arguments as data, never as shell syntax', async () => {
    const r = await runCommand('echo', ['$(id)', ';', 'rm', '-rf', '*']);
    expect(r.stdout).toBe('$(id) ; rm -rf *\n');
  });

  it('runs with a fixed PATH and the C locale, not the agent environment', async () => {
    process.env.FLEETPASS_TEST_LEAK = 'leaked';
    const r = await runCommand('env', []);
    delete process.env.FLEETPASS_TEST_LEAK;
    expect(r.stdout).toContain('LC_ALL=C');
    expect(r.stdout).not.toContain('leaked');
  });

  it('reports a failing command with its name and exit code, never its stdin', async () => {
    const secret = 'Sup3r-Secret!';
    const err = await runCommand('sh', ['-c', 'cat >&2; exit 3'], { input: `user:${secret}`, redact: [secret] }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FleetpassError);
    const fe = err as FleetpassError;
    expect(fe.code).toBe('FP_COMMAND_FAILED');
    expect(fe.message).toContain('"sh"');
    expect(fe.message).toContain('exit code 3');
    expect(JSON.stringify({ m: fe.message, d: fe.details })).not.toContain(secret);
    expect(fe.details.stderr).toBe('user:[redacted]');
  });

  it('accepts listed exit codes', async () => {
    const r = await runCommand('sh', ['-c', 'exit 1'], { okCodes: [0, 1] });
    expect(r.code).toBe(1);
  });

  it('stops a command that runs too long with FP_COMMAND_TIMEOUT', async () => {
    const started = Date.now();
    const err = await runCommand('sleep', ['60'], { timeoutMs: 150 }).catch((e: unknown) => e);
    expect((err as FleetpassError).code).toBe('FP_COMMAND_TIMEOUT');
    expect((err as FleetpassError).message).toContain('"sleep"');
    // Stopped, not run to its end: far below the minute it asked for, with room for a loaded CI.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('kills, at the timeout, a command that ignores SIGTERM together with the child holding its output', async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), 'fp-run-')), 'child.pid');
    const started = Date.now();
    // The shell ignores SIGTERM and waits on a sleep that keeps stdout open: killing the shell alone would hang.
    const err = await runCommand('sh', ['-c', `trap '' TERM; sleep 30 & echo $! > ${pidFile}; wait; wait`], {
      timeoutMs: 300,
    }).catch((e: unknown) => e);
    expect((err as FleetpassError).code).toBe('FP_COMMAND_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(10_000); // the sleep would hold the output for 30 s
    const sleepPid = Number(readFileSync(pidFile, 'utf8'));
    expect(processState(sleepPid)).toMatch(/^(gone|Z)$/);
  });

  it('resolves with any exit code when asked to, and stops a command that prints too much', async () => {
    await expect(runCommand('sh', ['-c', 'echo inactive; exit 3'], { okCodes: 'any' })).resolves.toEqual({
      stdout: 'inactive\n',
      stderr: '',
      code: 3,
    });
    const err = await runCommand('head', ['-c', '3000000', '/dev/zero']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FP_COMMAND_FAILED', message: expect.stringContaining('printed more than') });
  });

  it('says when a command is not installed', async () => {
    const err = await runCommand('fleetpass-no-such-command', []).catch((e: unknown) => e);
    expect((err as FleetpassError).code).toBe('FP_COMMAND_FAILED');
    expect((err as FleetpassError).message).toContain('not installed');
  });

  it('refuses relative command paths', async () => {
    await expect(runCommand('./x', [])).rejects.toMatchObject({ code: 'FP_INTERNAL' });
  });

  it('finds installed commands in the system PATH only', () => {
    expect(findCommand('sh')).toMatch(/^\/.*\/sh$/);
    expect(findCommand('fleetpass-no-such-command')).toBeUndefined();
  });

  it('scrubs every occurrence of a secret and bounds the length', () => {
    expect(scrubOutput('a pw b pw', ['pw'])).toBe('a [redacted] b [redacted]');
    expect(scrubOutput('x'.repeat(1000)).length).toBeLessThan(400);
  });
});
