/**
 * The Linux account backend (NextSeq 1000/2000 and any Linux node) and the primitives other backends reuse.
 *
 * Backend:
 *   const backend = createLinuxBackend({ config, clock, log });   // AccountBackend
 *   config (linuxBackendConfigSchema, all optional): counter 'auto'|'faillock'|'tally2'|'none', pamDir,
 *   pamServices (login services to judge; default: those of DEFAULT_LOGIN_SERVICES present), pamModuleDir,
 *   faillockConf, tallylogPath, passwdPath, shadowPath, groupPath, commandTimeoutMs,
 *   unlockCommand 'passwd'|'usermod'. The defaults are a real node's paths.
 *
 * How the lock is decided: pam/ loads the login services as libpam does (service-loader.ts), walks each
 * auth stack with libpam's dispatch (dispatch.ts) and the modules' rules (module-models.ts,
 * faillock-line.ts, tally2-line.ts), and login-analysis.ts makes the account's verdict; doctor-report.ts
 * explains it for `fleetpass-agent doctor`.
 *
 * Primitives (the SSR backend calls these rather than copying them; each validates the name and checks
 * the account exists; `ctx` defaults to a real node's context, build one with createLinuxContext):
 *   inspectLinuxAccount(account, ctx?)            -> AccountState (exists=false for an unknown user)
 *   setLinuxPassword(account, password, ctx?)     chpasswd, "name:password" on stdin
 *   resetFailureCounter(account, ctx?)            -> failures cleared (pam_faillock or pam_tally2)
 *   removePasswordLock(account, ctx?)             -> whether a "!" lock was removed (passwd -u / usermod -U)
 *   forcePasswordChange(account, ctx?)            chage -d 0
 *   runCommand(cmd, args, { input, timeoutMs, okCodes, redact })   argv only, minimal env, secrets on stdin, group SIGKILL at timeout
 *
 * Errors: FP_ACCOUNT_NAME_INVALID, FP_ACCOUNT_NOT_FOUND, FP_SECRET_MISSING, FP_PASSWORD_POLICY,
 * FP_COMMAND_FAILED, FP_COMMAND_TIMEOUT, FP_STILL_LOCKED, FP_TALLYLOG_CORRUPT, FP_FAILURE_COUNTER_IO,
 * FP_PAM_CONFIG_UNREADABLE, FP_LINUX_ACCOUNTS_UNREADABLE, FP_LINUX_NO_PASSWORD, FP_CONFIG_INVALID.
 */
export { createLinuxBackend, unlockLinuxAccount, resetLinuxPassword, describeLockReasons } from './linux-backend';
export {
  linuxBackendConfigSchema,
  createLinuxContext,
  defaultLinuxContext,
  type LinuxBackendConfig,
  type LinuxBackendConfigInput,
  type LinuxBackendOptions,
  type LinuxContext,
} from './config';
export { inspectLinuxAccount, inspectLinux, type LinuxInspection } from './inspect';
export {
  setLinuxPassword,
  resetFailureCounter,
  removePasswordLock,
  forcePasswordChange,
  requireLocalAccount,
  assertPasswordUsable,
} from './actions';
export {
  runCommand,
  commandRunner,
  findCommand,
  type CommandRunner,
  type CommandResult,
  type RunOptions,
} from './run-command';
export {
  DEFAULT_LOGIN_SERVICES,
  loadPamLayout,
  judgeAccount,
  type AccountPamVerdict,
  type PamLayout,
} from './pam/login-analysis';
export { judgeLockout, type LockoutVerdict } from './lockout-verdict';
export {
  readLockoutConfig,
  type LockoutConfig,
  type FaillockSettings,
  type Tally2Settings,
  type CounterKind,
} from './pam-config';
export type { FailureAssessment } from './failures';
