/**
 * The Local Run Manager v4 account backend: inspect, "Unlock User", and reset = unlock plus a temporary
 * password the user must change at the next LRM login (Illumina KB 000009008, step 3). Each operation
 * reads the version first and refuses LRM 3.x or older before sending anything else.
 */
import { createHash } from 'node:crypto';
import { FleetpassError, isFleetpassError } from '../../../shared/errors';
import { Action, Backend, type AccountState } from '../../../shared/gen/fleetpass/v1/common';
import { silentLogger, type Logger } from '../../../shared/logger';
import { systemClock, type Clock } from '../../../shared/clock';
import { assertAccountName } from '../../../shared/validation/account-name';
import type { AccountBackend, BackendCapabilities, ChangeResult, ResetOptions } from '../backend';
import { createLrmClient, type LrmClient, type LrmSession, type LrmUser } from './client';
import {
  lrmConfigWarnings,
  parseLrmBackendConfig,
  readServicePassword,
  type LrmBackendConfig,
  type LrmBackendConfigInput,
} from './config';
import { lrmMissingState, lrmUnknownState, lrmUserState } from './state';
import { SUPPORT_GUIDANCE, assertActionsAllowed, versionSupport, type LrmVersion } from './version';

export interface LrmBackendDeps {
  log?: Logger;
  clock?: Clock;
}

/** The common backend contract plus the LRM user list, so operators see LRM accounts beside Linux ones. */
export interface LrmBackend extends AccountBackend {
  listAccounts(): Promise<string[]>;
}

export const NOTE_NEW_PASSWORD_AT_LOGIN = 'the user will be asked for a new password at the next LRM login';

/** Creates the LRM backend; config is validated here (FP_CONFIG_INVALID) and the CA file read now. */
export function createLrmBackend(
  input: LrmBackendConfigInput | LrmBackendConfig,
  deps: LrmBackendDeps = {},
): LrmBackend {
  const config = parseLrmBackendConfig(input);
  const log = (deps.log ?? silentLogger()).child({ component: 'lrm-backend' });
  const clock = deps.clock ?? systemClock;
  const client = createLrmClient(config, log);
  const serviceUser = config.serviceAccount.username;
  for (const warning of lrmConfigWarnings(config)) log.warn({ warning }, 'insecure lrm setting');
  /** Hash of a service credential LRM refused: not retried, so fleetpass cannot lock the service account itself. */
  let refusedCredential: string | undefined;

  function credentialHash(password: string): string {
    return createHash('sha256').update(`${serviceUser}\0${password}`).digest('hex');
  }

  async function readVersion(): Promise<LrmVersion | undefined> {
    const page = await client.readLoginPage();
    if (page.status < 200 || page.status >= 300) {
      throw new FleetpassError(
        'FP_LRM_VERSION_UNKNOWN',
        `the Local Run Manager login page at ${client.origin}${client.endpoints.loginPage.path} answered HTTP ${page.status}; nothing was changed`,
        {
          details: { httpStatus: page.status },
        },
      );
    }
    return page.version;
  }

  /** Version check, service login, `fn`, logout. Nothing but the version read happens on an unsupported LRM. */
  async function withSession<T>(fn: (session: LrmSession, version: LrmVersion) => Promise<T>): Promise<T> {
    const version = assertActionsAllowed(await readVersion(), config.allowUntestedVersion);
    const password = readServicePassword(config);
    const hash = credentialHash(password);
    if (hash === refusedCredential) {
      throw new FleetpassError(
        'FP_LRM_AUTH_FAILED',
        `Local Run Manager already refused this credential for the service account ${serviceUser}; it is not tried again so that the service account does not get locked. Fix lrm.serviceAccount (a changed password file is picked up without restart)`,
        {
          details: { reason: 'credentials', notRetried: true },
        },
      );
    }
    let session: LrmSession;
    try {
      session = await client.login(serviceUser, password);
    } catch (e) {
      if (isFleetpassError(e) && e.code === 'FP_LRM_AUTH_FAILED' && e.details.reason === 'credentials')
        refusedCredential = hash;
      throw e;
    }
    refusedCredential = undefined;
    try {
      return await fn(session, version);
    } finally {
      await client.logout(session).catch((e: unknown) => log.warn({ err: e }, 'lrm logout failed'));
    }
  }

  async function settingsOrNothing(session: LrmSession) {
    try {
      return await client.securitySettings(session);
    } catch (e) {
      // The allowed attempts are a nicety; the user's own record still answers the question.
      if (isFleetpassError(e) && (e.code === 'FP_LRM_UNEXPECTED_RESPONSE' || e.code === 'FP_LRM_NOT_ADMIN')) {
        log.warn({ code: e.code }, 'lrm security settings unavailable');
        return undefined;
      }
      throw e;
    }
  }

  async function stateOf(session: LrmSession, account: string, version: LrmVersion): Promise<AccountState> {
    const user = await client.getUser(session, account);
    if (!user) return lrmMissingState(account, version, clock.now());
    return lrmUserState(user, version, await settingsOrNothing(session), clock.now());
  }

  /** The user, refusing a missing or disabled one before anything changes. */
  async function existingUser(
    session: LrmSession,
    account: string,
    version: LrmVersion,
  ): Promise<{ user: LrmUser; state: AccountState }> {
    const user = await client.getUser(session, account);
    if (!user)
      throw new FleetpassError('FP_ACCOUNT_NOT_FOUND', `Local Run Manager has no user ${account}; nothing was changed`);
    const state = lrmUserState(user, version, await settingsOrNothing(session), clock.now());
    if (user.disabled) {
      throw new FleetpassError(
        'FP_ACTION_UNSUPPORTED',
        `the LRM user ${account} is disabled; fleetpass does not restore disabled LRM users: an LRM administrator restores it in Tools > Account Management. Nothing was changed`,
        {
          details: { before: state },
        },
      );
    }
    return { user, state };
  }

  /** Re-reads the state after a failed step; undefined when LRM cannot say. */
  async function stateAfterFailure(
    session: LrmSession,
    account: string,
    version: LrmVersion,
  ): Promise<AccountState | undefined> {
    try {
      return await stateOf(session, account, version);
    } catch (e) {
      log.warn({ err: e, account }, 'lrm state after failure unreadable');
      return undefined;
    }
  }

  /** The error of a failed step, with the step, the re-read state and whether LRM may have applied it. */
  function stepError(e: unknown, step: string, after: AccountState | undefined, before: AccountState): FleetpassError {
    const err = isFleetpassError(e) ? e : new FleetpassError('FP_INTERNAL', undefined, { cause: e });
    const uncertain = err.details.requestSent === true ? ' The request reached LRM, so it may have been applied;' : '';
    const seen = after
      ? ` the account was re-read: ${after.locked ? 'locked' : 'not locked'}${after.mustChangePassword ? ', must change password' : ''}.`
      : ' the state after could not be read.';
    return new FleetpassError(err.code, `${err.message} (step ${step}).${uncertain}${seen}`, {
      cause: err.cause ?? err,
      details: { ...err.details, step, before, after },
    });
  }

  function verifyUnlocked(after: AccountState, before: AccountState, step: string): void {
    if (after.locked) {
      throw new FleetpassError(
        'FP_STILL_LOCKED',
        `Local Run Manager still reports ${after.account} as locked after ${step}`,
        { details: { step: 'verify', before, after } },
      );
    }
  }

  const backend: LrmBackend = {
    describe(): BackendCapabilities {
      return {
        backend: Backend.BACKEND_LRM,
        actions: [Action.ACTION_UNLOCK, Action.ACTION_RESET_PASSWORD, Action.ACTION_REFRESH_STATE],
        description: `Illumina Local Run Manager accounts at ${client.origin} (service account ${serviceUser})`,
      };
    },

    async inspect(account) {
      assertAccountName(account);
      const version = await readVersion();
      if (!version) throw new FleetpassError('FP_LRM_VERSION_UNKNOWN');
      const support = versionSupport(version);
      if (support === 'too-old' || (support === 'untested' && !config.allowUntestedVersion)) {
        // Nothing beyond the version read is sent to an LRM fleetpass does not act on.
        return lrmUnknownState(
          account,
          version,
          clock.now(),
          support === 'too-old'
            ? SUPPORT_GUIDANCE
            : `LRM ${version.text} is not verified; see \`fleetpass-agent lrm probe\``,
        );
      }
      return withSession((session, v) => stateOf(session, account, v));
    },

    async unlock(account) {
      assertAccountName(account);
      return withSession(async (session, version) => {
        const { user, state: before } = await existingUser(session, account, version);
        const needed = user.locked || (user.failedLoginAttempts ?? 0) > 0;
        if (needed) {
          try {
            await client.unlockUser(session, account);
          } catch (e) {
            throw stepError(e, 'unlock', await stateAfterFailure(session, account, version), before);
          }
        }
        const after = await stateOf(session, account, version);
        verifyUnlocked(after, before, 'unlock');
        log.info({ account, lrmVersion: version.text, changed: needed }, 'lrm user unlocked');
        const notes = needed
          ? ['the LRM account was unlocked; the password is unchanged']
          : ['the LRM account was not locked; nothing was changed'];
        return { before, after, notes } satisfies ChangeResult;
      });
    },

    async resetPassword(account, newPassword, options: ResetOptions = {}) {
      assertAccountName(account);
      if (typeof newPassword !== 'string' || newPassword.length === 0) throw new FleetpassError('FP_SECRET_MISSING');
      return withSession(async (session, version) => {
        const { user, state: before } = await existingUser(session, account, version);
        const notes: string[] = [];
        let unlocked = false;
        if (user.locked || (user.failedLoginAttempts ?? 0) > 0) {
          try {
            await client.unlockUser(session, account);
            unlocked = true;
          } catch (e) {
            throw stepError(e, 'unlock', await stateAfterFailure(session, account, version), before);
          }
          notes.push('the LRM account was unlocked');
        }
        try {
          await client.setTemporaryPassword(session, account, newPassword);
        } catch (e) {
          const after = await stateAfterFailure(session, account, version);
          if (!unlocked) throw stepError(e, 'set-temporary-password', after, before);
          const cause = isFleetpassError(e) ? e : undefined;
          log.warn({ account, step: 'set-temporary-password', code: cause?.code }, 'lrm reset incomplete');
          throw new FleetpassError(
            'FP_LRM_RESET_INCOMPLETE',
            `the LRM account ${account} was unlocked, but setting the temporary password failed (${cause ? `${cause.code}: ${cause.message}` : 'unexpected error'}); the user keeps the old password. Retry the reset.`,
            {
              cause: e,
              details: {
                step: 'set-temporary-password',
                unlocked: true,
                causeCode: cause?.code,
                requestSent: cause?.details.requestSent,
                before,
                after,
              },
            },
          );
        }
        const after = await stateOf(session, account, version);
        verifyUnlocked(after, before, 'reset');
        notes.push(NOTE_NEW_PASSWORD_AT_LOGIN);
        if (options.temporary === false) notes.push('LRM always makes a password set by an administrator temporary');
        if (!after.mustChangePassword)
          notes.push('LRM did not report that the user must change the password; check the account in LRM');
        log.info({ account, lrmVersion: version.text, unlocked }, 'lrm temporary password set');
        return { before, after, notes } satisfies ChangeResult;
      });
    },

    async listAccounts() {
      return withSession(async (session) => (await client.listUsers(session)).map((u) => u.username));
    },
  };
  return backend;
}

/** For the probe: the client and parsed config of a backend configuration, without creating a backend. */
export function lrmClientFor(
  input: LrmBackendConfigInput | LrmBackendConfig,
  log: Logger = silentLogger(),
): { config: LrmBackendConfig; client: LrmClient } {
  const config = parseLrmBackendConfig(input);
  return { config, client: createLrmClient(config, log) };
}
