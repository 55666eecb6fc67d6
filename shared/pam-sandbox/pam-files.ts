/** The PAM service file and faillock.conf a sandbox writes (inside its private /etc only). */

export interface FaillockPolicy {
  /** Failures that lock the account (pam_faillock deny=). */
  readonly deny: number;
  /** Seconds until a lock ends by itself; 'never' (0) keeps it until an administrator clears it. */
  readonly unlockTime: number | 'never';
  /** Failures older than this many seconds before the latest one do not count. */
  readonly failInterval: number;
  readonly rootUnlockTime?: number | 'never';
  readonly evenDenyRoot?: boolean;
  /** Where pam_faillock keeps its per-user files (a tmpfs in the sandbox). */
  readonly dir: string;
}

function policyArgs(p: FaillockPolicy): string {
  const args = [`deny=${p.deny}`, `unlock_time=${p.unlockTime}`, `fail_interval=${p.failInterval}`];
  if (p.rootUnlockTime !== undefined) args.push(`root_unlock_time=${p.rootUnlockTime}`);
  if (p.evenDenyRoot) args.push('even_deny_root');
  return args.join(' ');
}

/** /etc/security/faillock.conf with the policy. */
export function faillockConf(p: FaillockPolicy): string {
  const lines = [
    '# Written by the fleetpass PAM sandbox (private overlay of /etc; the host file is untouched).',
    `dir = ${p.dir}`,
    `deny = ${p.deny}`,
    `fail_interval = ${p.failInterval}`,
    `unlock_time = ${p.unlockTime}`,
  ];
  if (p.rootUnlockTime !== undefined) lines.push(`root_unlock_time = ${p.rootUnlockTime}`);
  if (p.evenDenyRoot) lines.push('even_deny_root');
  return `${lines.join('\n')}\n`;
}

/**
 * The service file: pam_faillock around pam_unix as `man pam_faillock` shows it. `nodelay` on both
 * modules keeps failed logins instant in tests. With `argsInService` the policy is also written as module
 * arguments, as many real nodes do; arguments override faillock.conf.
 */
export function pamService(p: FaillockPolicy, argsInService: boolean): string {
  const a = argsInService ? ` ${policyArgs(p)}` : '';
  return [
    '# Written by the fleetpass PAM sandbox (private overlay of /etc; the host file is untouched).',
    `auth     required                 pam_faillock.so preauth silent nodelay${a}`,
    'auth     [success=1 default=bad]  pam_unix.so nodelay',
    `auth     [default=die]            pam_faillock.so authfail nodelay${a}`,
    `auth     sufficient               pam_faillock.so authsucc nodelay${a}`,
    'auth     required                 pam_deny.so',
    'account  required                 pam_unix.so',
    '',
  ].join('\n');
}
