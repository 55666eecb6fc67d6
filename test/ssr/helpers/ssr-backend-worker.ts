/**
 * Test-only: runs the real SSR backend INSIDE a PAM sandbox (started with sb.spawn, `node -r tsx/cjs`), so its
 * Linux side (chpasswd, /etc/shadow, /run/faillock) is the sandbox's while its REST calls reach the simulator
 * on the shared loopback. One JSON request per stdin line, one JSON response per stdout line; logs on stderr.
 */
import { createLogger } from '../../../shared/logger';
import { createSsrBackend, type SsrBackendConfigInput } from '../../../agent/backends/ssr';
import { createLinuxContext } from '../../../agent/backends/linux';
import { serveRequests } from '../../helpers/sandbox-worker';

export interface SsrWorkerRequest {
  readonly id: number;
  readonly op: 'inspect' | 'unlock' | 'resetPassword';
  readonly account: string;
  readonly password?: string;
  readonly temporary?: boolean;
  readonly config: SsrBackendConfigInput;
  /** The router's login PAM service (the sandbox's own; the host's Debian files have no pam_faillock). */
  readonly pamService: string;
}

const log = createLogger({ level: 'debug', name: 'ssr-backend-worker', destination: process.stderr });

async function handle(req: SsrWorkerRequest): Promise<unknown> {
  // As the registry does on a node: the SSR backend's Linux side uses the node's backends.linux settings.
  const linux = createLinuxContext({ config: { pamServices: [req.pamService] }, log });
  const backend = createSsrBackend(req.config, { log, linux });
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

serveRequests(handle);
