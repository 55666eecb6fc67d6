/**
 * The LRM service credential, temporary passwords and LRM session tokens never appear in log output
 * (debug level included), error messages, error details, stacks or causes, nor in the probe's output,
 * across successful and failing operations.
 */
import { createLogger } from '../../shared/logger';
import { createLrmBackend } from '../../agent/backends/lrm';
import { runLrmProbe } from '../../agent/commands/lrm-probe';
import { failLogins } from './lrm-user-client';
import { SERVICE_PASSWORD, SERVICE_USER, configFor, startSim, tempFile } from './fixtures';

const WRONG_SERVICE_PASSWORD = 'Wrong-Svc-Zx81!';
const TEMP_PASSWORDS = ['Temp-Leak-Check-41', 'Temp-Leak-Check-42', 'Sh0rt!x'];

/** Everything an error can show: message, stack, details and the cause chain. */
function errorText(e: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = e, depth = 0; cur && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    const err = cur as Error & { details?: unknown };
    parts.push(String(err), err.message ?? '', err.stack ?? '', JSON.stringify(err.details ?? {}));
  }
  return parts.join('\n');
}

describe('LRM secrets', () => {
  it('never shows the service credential, temporary passwords or session tokens', async () => {
    const sim = await startSim();
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } });
    const errors: string[] = [];
    const capture = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => void errors.push(errorText(e)),
      );
    const probeOut: string[] = [];
    try {
      const good = createLrmBackend(configFor(sim), { log });
      await failLogins(sim, 'alice', 5);
      await good.inspect('alice');
      await good.resetPassword('alice', TEMP_PASSWORDS[0]);
      sim.failNext('setTemporaryPassword', 500);
      await failLogins(sim, 'alice', 5);
      await capture(good.resetPassword('alice', TEMP_PASSWORDS[1]));
      await capture(good.resetPassword('bob', TEMP_PASSWORDS[2]));
      sim.hang('setTemporaryPassword');
      await capture(
        createLrmBackend(configFor(sim, { timeoutMs: 300 }), { log }).resetPassword('bob', TEMP_PASSWORDS[1]),
      );

      const wrong = createLrmBackend(
        configFor(sim, { serviceAccount: { username: SERVICE_USER, password: WRONG_SERVICE_PASSWORD } }),
        { log },
      );
      await capture(wrong.unlock('alice'));
      await capture(wrong.unlock('alice'));
      await capture(createLrmBackend(configFor(sim, { tls: {} }), { log }).unlock('alice'));
      await capture(
        createLrmBackend(
          configFor(sim, { serviceAccount: { username: SERVICE_USER, passwordFile: '/nonexistent/lrm-pass' } }),
          { log },
        ).unlock('alice'),
      );
      const file = tempFile('svc', `${SERVICE_PASSWORD}\n`);
      await createLrmBackend(configFor(sim, { serviceAccount: { username: SERVICE_USER, passwordFile: file } }), {
        log,
      }).listAccounts();
      // Both a password and a file: a config error, which must not echo the password.
      await capture(
        Promise.resolve().then(() =>
          createLrmBackend({
            ...configFor(sim),
            serviceAccount: { username: SERVICE_USER, password: SERVICE_PASSWORD, passwordFile: file },
          }),
        ),
      );

      for (const opts of [{}, { json: true }]) {
        await runLrmProbe(configFor(sim), (l) => probeOut.push(l), { ...opts, log });
        await runLrmProbe(
          configFor(sim, { serviceAccount: { username: SERVICE_USER, password: WRONG_SERVICE_PASSWORD } }),
          (l) => probeOut.push(l),
          { ...opts, log },
        );
      }
      await runLrmProbe({ ...configFor(sim), baseUrl: 'http://x' }, (l) => probeOut.push(l));
    } finally {
      await sim.close();
    }

    expect(errors.length).toBe(8);
    expect(lines.some((l) => l.includes('"lrm request"'))).toBe(true);
    const secrets = [SERVICE_PASSWORD, WRONG_SERVICE_PASSWORD, ...TEMP_PASSWORDS, ...sim.tokens];
    expect(sim.tokens.length).toBeGreaterThan(5);
    const everything = [...lines, ...errors, ...probeOut].join('\n');
    for (const secret of secrets) expect(everything.includes(secret)).toBe(false);
    expect(everything).not.toMatch(/Bearer\s+\S/);
  });
});
