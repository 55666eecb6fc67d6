/**
 * Test-only: runs the real Linux backend INSIDE a PAM sandbox (started with sb.spawn, `node -r tsx/cjs`),
 * answering one JSON request per stdin line with one JSON response per stdout line. Production code runs
 * its commands directly on the node; this worker is how tests put it on a sandboxed "node".
 */
import type { Clock } from '../../../shared/clock';
import { createLogger } from '../../../shared/logger';
import {
  createLinuxBackend,
  createLinuxContext,
  removePasswordLock,
  resetFailureCounter,
  setLinuxPassword,
  type LinuxBackendConfigInput,
} from '../../../agent/backends/linux';
import { serveRequests } from '../../helpers/sandbox-worker';

export interface WorkerRequest {
  readonly id: number;
  readonly op:
    'inspect' | 'unlock' | 'resetPassword' | 'setLinuxPassword' | 'resetFailureCounter' | 'removePasswordLock';
  readonly account: string;
  readonly password?: string;
  readonly temporary?: boolean;
  /** ISO time the injected clock reports (default: the real time). */
  readonly now?: string;
  readonly config?: LinuxBackendConfigInput;
}

/** Log lines go to stderr, where the test client collects them to check what is (and is not) logged. */
const log = createLogger({ level: 'info', name: 'backend-worker', destination: process.stderr });

async function handle(req: WorkerRequest): Promise<unknown> {
  const clock: Clock = { now: () => (req.now ? new Date(req.now) : new Date()) };
  const backend = createLinuxBackend({ config: req.config, clock, log });
  const ctx = createLinuxContext({ config: req.config, clock, log });
  switch (req.op) {
    case 'inspect':
      return backend.inspect(req.account);
    case 'unlock':
      return backend.unlock(req.account);
    case 'resetPassword':
      return backend.resetPassword(req.account, req.password as string, { temporary: req.temporary });
    case 'setLinuxPassword':
      return setLinuxPassword(req.account, req.password as string, ctx);
    case 'resetFailureCounter':
      return resetFailureCounter(req.account, ctx);
    case 'removePasswordLock':
      return removePasswordLock(req.account, ctx);
  }
}

serveRequests(handle);
