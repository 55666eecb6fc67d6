/**
 * Test-only: runs the real SSR backend INSIDE a PAM sandbox (started with sb.spawn, `node -r tsx/cjs`), so its
 * Linux side (chpasswd, /etc/shadow, /run/faillock) is the sandbox's while its REST calls reach the simulator
 * on the shared loopback. One JSON request per stdin line, one JSON response per stdout line; logs on stderr.
 */
import { createInterface } from 'node:readline';
import { isFleetpassError } from '../../../shared/errors';
import { createLogger } from '../../../shared/logger';
import { createSsrBackend, type SsrBackendConfigInput } from '../../../agent/backends/ssr';

export interface SsrWorkerRequest {
  readonly id: number;
  readonly op: 'inspect' | 'unlock' | 'resetPassword';
  readonly account: string;
  readonly password?: string;
  readonly temporary?: boolean;
  readonly config: SsrBackendConfigInput;
}

const log = createLogger({ level: 'debug', name: 'ssr-backend-worker', destination: process.stderr });

async function handle(req: SsrWorkerRequest): Promise<unknown> {
  const backend = createSsrBackend(req.config, { log });
  try {
    switch (req.op) {
      case 'inspect':
        return await backend.inspect(req.account);
      case 'unlock':
        return await backend.unlock(req.account);
      case 'resetPassword':
        return await backend.resetPassword(req.account, req.password as string, { temporary: req.temporary });
    }
  } finally {
    backend.close();
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const req = JSON.parse(line) as SsrWorkerRequest;
  handle(req).then(
    (result) => process.stdout.write(`${JSON.stringify({ id: req.id, ok: true, result: result ?? null })}\n`),
    (e: unknown) => {
      const error = isFleetpassError(e) ? { code: e.code, message: e.message, details: e.details } : { code: 'UNEXPECTED', message: String((e as Error)?.stack ?? e) };
      process.stdout.write(`${JSON.stringify({ id: req.id, ok: false, error })}\n`);
    },
  );
});
rl.on('close', () => process.exit(0));
