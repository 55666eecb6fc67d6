/**
 * The real-PAM sandbox: real users, real pam_faillock and pamtester, in a private mount namespace so the
 * host's accounts and PAM files never change. Used by the tests and by the first-run demo.
 *
 *   const support = await sandboxSupported({ probe: true });     // { ok, why, notes }
 *   const sb = await createPamSandbox({ users: [{ name: 'ilmnuser', password: 'x' }], deny: 3, unlockTime: 600 });
 *   await sb.failLogins('ilmnuser', 3);                           // real pam_faillock records
 *   await sb.authenticate('ilmnuser', 'x');                       // false while locked
 *   const r = await sb.exec(['passwd', '-S', 'ilmnuser']);         // { stdout, stderr, code }
 *   const agent = sb.spawn([process.execPath, 'dist/fleetpass-agent.js', ...], { stdio: 'pipe' });
 *   await sb.destroy();
 *
 * Every process started with exec/spawn shares the sandbox's /etc, /run, /var/log, /home and mail spool,
 * and sees the rest of the host (code, node, loopback network) as it is.
 */
export {
  createPamSandbox,
  failLoginsIn,
  type PamSandbox,
  type PamSandboxOptions,
  type SandboxUser,
  type AuthOptions,
} from './sandbox';
export { sandboxSupported, type SandboxSupport } from './supported';
export { hostAccountFingerprint, HOST_ACCOUNT_TARGETS, type FingerprintTarget } from './host-fingerprint';
export type { ExecResult, ExecOptions } from './namespace';
export type { FaillockPolicy } from './pam-files';
