/**
 * The SSR backend under the common AccountBackend contract: inspect (Linux + 128T + SSR store), unlock
 * (this node's faillock counter, nothing else) and a reset that survives an SSR restart (reset-password.ts).
 * On an HA pair each node runs its own agent with this backend; the controller targets both by label.
 */
import { FleetpassError } from '../../../shared/errors';
import { Action, Backend, LockReason } from '../../../shared/gen/fleetpass/v1/common';
import type { Clock } from '../../../shared/clock';
import type { Logger } from '../../../shared/logger';
import { assertAccountName } from '../../../shared/validation/account-name';
import type { AccountBackend, ChangeResult, ResetOptions } from '../backend';
import { parseSsrBackendConfig, type SsrBackendConfig, type SsrBackendConfigInput } from './config';
import { createLinuxContext, type LinuxContext } from '../linux';
import { createHttpsTransport } from './https-transport';
import { linuxOpsFor } from './linux-ops';
import { ssrAccountState, type SsrLinuxOps, type SsrObservation } from './inspect-account';
import { HA_NOTE, resetSsrPassword } from './reset-password';
import { createSsrRestClient, type SsrRestClient } from './rest-client';
import { checkSsrService } from './service-check';
import { createSsrUserStore } from './user-store';

export interface SsrBackendDeps {
  readonly log: Logger;
  readonly clock?: Clock;
  /**
   * The Linux backend's context (its `backends.linux` config: paths, PAM files, command timeout) that the
   * SSR user's Linux side is read and changed with; by default the Linux backend's defaults.
   */
  readonly linux?: LinuxContext;
}

export interface SsrBackend extends AccountBackend {
  /** Drops the REST client's sockets. */
  close(): void;
}

/** Builds the backend; throws FP_CONFIG_INVALID / FP_CONFIG_UNREADABLE for bad configuration. */
export function createSsrBackend(input: SsrBackendConfig | SsrBackendConfigInput, deps: SsrBackendDeps): SsrBackend {
  const config = parseSsrBackendConfig(input);
  const log = deps.log.child({ component: 'ssr-backend' });
  const client: SsrRestClient = createSsrRestClient(createHttpsTransport(config));
  const store = createSsrUserStore(config.userList, client);
  const linux: SsrLinuxOps = linuxOpsFor(deps.linux ?? createLinuxContext({ clock: deps.clock, log: deps.log }));

  async function observe(account: string): Promise<SsrObservation> {
    const [linuxState, service] = await Promise.all([
      linux.inspect(account),
      checkSsrService(config.serviceCheck.command, config.serviceCheck.timeoutMs),
    ]);
    const lookup = service.active
      ? await store.lookup(account)
      : ({ status: 'unknown', error: new FleetpassError('FP_SSR_SERVICE_DOWN') } as const);
    if (lookup.status === 'unknown' && service.active)
      log.debug({ account, code: lookup.error.code }, 'ssr user store not readable');
    return { state: ssrAccountState(linuxState, service, lookup), service, store: lookup };
  }

  async function inspect(account: string) {
    assertAccountName(account);
    return (await observe(account)).state;
  }

  async function unlock(account: string): Promise<ChangeResult> {
    assertAccountName(account);
    const before = (await observe(account)).state;
    if (!before.exists)
      throw new FleetpassError('FP_ACCOUNT_NOT_FOUND', `there is no Linux account ${account} on this router`);
    await linux.resetFailureCounter(account);
    const after = (await observe(account)).state;
    if (after.lockReasons.includes(LockReason.LOCK_REASON_TOO_MANY_FAILURES)) {
      throw new FleetpassError(
        'FP_STILL_LOCKED',
        `${account} is still locked by failed logins after the counter was cleared`,
      );
    }
    log.info({ account }, 'ssr unlock done');
    const notes = [HA_NOTE];
    if (after.details['ssr.enabled'] === 'false')
      notes.push('the SSR user is disabled; only an administrator on the router can enable it');
    return { before, after, notes };
  }

  async function resetPassword(
    account: string,
    newPassword: string,
    options: ResetOptions = {},
  ): Promise<ChangeResult> {
    assertAccountName(account);
    if (options.temporary) {
      throw new FleetpassError(
        'FP_ACTION_UNSUPPORTED',
        'the SSR has no "change at next login" password: fleetpass cannot set a temporary SSR password; nothing was changed',
        {
          details: { step: 'policy-check' },
        },
      );
    }
    return resetSsrPassword(account, newPassword, { linux, client, observe, log });
  }

  return {
    describe: () => ({
      backend: Backend.BACKEND_SSR,
      actions: [Action.ACTION_UNLOCK, Action.ACTION_RESET_PASSWORD, Action.ACTION_REFRESH_STATE],
      description: `Juniper SSR (128T) users at ${config.baseUrl}: Linux account, SSR user store, pam_faillock`,
    }),
    inspect,
    unlock,
    resetPassword,
    close: () => client.close(),
  };
}
