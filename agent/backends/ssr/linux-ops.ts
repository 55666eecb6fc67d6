/**
 * The Linux side of an SSR user, done by the Linux backend's own primitives (not copies of them): inspect,
 * chpasswd with the password on stdin, and clearing this node's faillock counter.
 */
import { inspectLinuxAccount, resetFailureCounter, setLinuxPassword, type LinuxContext } from '../linux';
import type { SsrLinuxOps } from './inspect-account';

/** Binds the Linux primitives to one Linux context (paths, PAM config, command runner, clock, log). */
export function linuxOpsFor(ctx: LinuxContext): SsrLinuxOps {
  return {
    inspect: (account) => inspectLinuxAccount(account, ctx),
    setPassword: (account, password) => setLinuxPassword(account, password, ctx),
    resetFailureCounter: async (account) => {
      await resetFailureCounter(account, ctx);
    },
  };
}
