/** Test-only: creates a sandbox, prints its keeper pid and temp dir, then waits to be killed without cleanup. */
import { createPamSandbox } from '../../../shared/pam-sandbox';

void createPamSandbox({ users: [{ name: 'crashuser', password: 'Crash-pw-1' }] }).then((sb) => {
  process.stdout.write(`${JSON.stringify({ pid: sb.pid, tmpDir: sb.tmpDir })}\n`);
  setInterval(() => undefined, 1000);
});
