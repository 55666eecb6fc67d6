/**
 * TEST ONLY: an in-memory AccountBackend for agent tests, with programmable lock state, injectable
 * failures, gates that hold a call in flight, and call counters. It models a pam_faillock node:
 * `deny` failures lock the account for `unlockSeconds` from the last failure. Passwords are kept only as
 * sha256 digests. Never shipped: it lives with the tests and cannot be selected by the agent config.
 */
import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../../shared/clock';
import { FleetpassError } from '../../shared/errors';
import { Action, Backend, FailureCounter, LockReason, type AccountState } from '../../shared/gen/fleetpass/v1/common';
import type { AccountBackend, ChangeResult, ResetOptions } from '../../agent/backends/backend';

export interface TestAccount {
  exists: boolean;
  uid: number;
  failures: number;
  lastFailure?: Date;
  lastFailureSource?: string;
  passwordLocked: boolean;
  mustChangePassword: boolean;
  passwordDigest?: string;
  passwordChanged?: Date;
}

type Method = 'inspect' | 'unlock' | 'resetPassword';

export interface TestMemoryBackend extends AccountBackend {
  readonly calls: Record<Method, number>;
  /** Every reset, in order, as (account, digest of the password): tests compare without keeping plaintext. */
  readonly resets: { account: string; digest: string; temporary: boolean }[];
  account(name: string): TestAccount;
  setAccount(name: string, patch: Partial<TestAccount>): void;
  /** Records `n` failed logins now, as pam_faillock would. */
  failLogins(name: string, n: number, source?: string): void;
  /** The next call of `method` throws `error` (after counting the call). */
  failNext(method: Method, error: Error): void;
  /** The next call of `method` waits until `release()`; `reached` resolves when the call has started. */
  hold(method: Method): { reached: Promise<void>; release(): void };
  passwordMatches(name: string, password: string): boolean;
}

export interface TestMemoryBackendOptions {
  backend?: Backend;
  accounts?: Record<string, Partial<TestAccount>>;
  clock?: Clock;
  deny?: number;
  unlockSeconds?: number;
  actions?: Action[];
}

/** sha256 hex of a password, so tests can compare without holding plaintext in backend state. */
export function digest(password: string): string {
  return createHash('sha256').update(password).digest('hex');
}

/** Creates a TEST-ONLY in-memory backend (see module doc). */
export function createTestMemoryBackend(options: TestMemoryBackendOptions = {}): TestMemoryBackend {
  const clock = options.clock ?? systemClock;
  const backend = options.backend ?? Backend.BACKEND_LINUX;
  const deny = options.deny ?? 3;
  const unlockSeconds = options.unlockSeconds ?? 600;
  const accounts = new Map<string, TestAccount>();
  let nextUid = 1000;
  const blank = (): TestAccount => ({
    exists: true,
    uid: nextUid++,
    failures: 0,
    passwordLocked: false,
    mustChangePassword: false,
  });
  for (const [name, patch] of Object.entries(options.accounts ?? {})) accounts.set(name, { ...blank(), ...patch });

  const calls: Record<Method, number> = { inspect: 0, unlock: 0, resetPassword: 0 };
  const failures = new Map<Method, Error>();
  const holds = new Map<Method, { reached: () => void; gate: Promise<void> }>();
  const resets: TestMemoryBackend['resets'] = [];

  async function enter(method: Method): Promise<void> {
    calls[method] += 1;
    const hold = holds.get(method);
    if (hold) {
      holds.delete(method);
      hold.reached();
      await hold.gate;
    }
    const err = failures.get(method);
    if (err) {
      failures.delete(method);
      throw err;
    }
  }

  function get(name: string): TestAccount {
    const a = accounts.get(name);
    if (!a || !a.exists)
      throw new FleetpassError('FP_ACCOUNT_NOT_FOUND', `no account ${JSON.stringify(name)} on this test node`);
    return a;
  }

  function state(name: string): AccountState {
    const now = clock.now();
    const a = accounts.get(name);
    const base: AccountState = {
      backend,
      account: name,
      exists: false,
      locked: false,
      lockReasons: [],
      failureCount: 0,
      denyThreshold: deny,
      lockEnds: undefined,
      lockPermanent: false,
      lastFailure: undefined,
      lastFailureSource: '',
      passwordChanged: undefined,
      passwordExpires: undefined,
      observed: now,
      counter: FailureCounter.FAILURE_COUNTER_FAILLOCK,
      mustChangePassword: false,
      details: {},
    };
    if (!a || !a.exists) return base;
    const reasons: LockReason[] = [];
    let lockEnds: Date | undefined;
    if (a.failures >= deny && a.lastFailure) {
      const ends = new Date(a.lastFailure.getTime() + unlockSeconds * 1000);
      if (ends > now) {
        reasons.push(LockReason.LOCK_REASON_TOO_MANY_FAILURES);
        lockEnds = ends;
      }
    }
    if (a.passwordLocked) reasons.push(LockReason.LOCK_REASON_PASSWORD_LOCKED);
    return {
      ...base,
      exists: true,
      locked: reasons.length > 0,
      lockReasons: reasons,
      failureCount: a.failures,
      lockEnds,
      lockPermanent: a.passwordLocked,
      lastFailure: a.lastFailure,
      lastFailureSource: a.lastFailureSource ?? '',
      passwordChanged: a.passwordChanged,
      mustChangePassword: a.mustChangePassword,
      details: { 'linux.uid': String(a.uid) },
    };
  }

  const self: TestMemoryBackend = {
    calls,
    resets,
    describe: () => ({
      backend,
      actions: options.actions ?? [Action.ACTION_UNLOCK, Action.ACTION_RESET_PASSWORD, Action.ACTION_REFRESH_STATE],
      description: 'TEST-ONLY in-memory backend',
    }),
    async inspect(name) {
      await enter('inspect');
      return state(name);
    },
    async unlock(name): Promise<ChangeResult> {
      await enter('unlock');
      get(name);
      const before = state(name);
      self.setAccount(name, { failures: 0, lastFailure: undefined, passwordLocked: false });
      return { before, after: state(name), notes: [] };
    },
    async resetPassword(name, password, opts?: ResetOptions): Promise<ChangeResult> {
      await enter('resetPassword');
      get(name);
      const before = state(name);
      const d = digest(password);
      resets.push({ account: name, digest: d, temporary: opts?.temporary ?? false });
      self.setAccount(name, {
        failures: 0,
        lastFailure: undefined,
        passwordLocked: false,
        passwordDigest: d,
        passwordChanged: clock.now(),
        mustChangePassword: opts?.temporary ?? false,
      });
      return {
        before,
        after: state(name),
        notes: opts?.temporary ? ['the user must choose a new password at next login'] : [],
      };
    },
    account: (name) => get(name),
    setAccount(name, patch) {
      accounts.set(name, { ...(accounts.get(name) ?? blank()), ...patch });
    },
    failLogins(name, n, source = 'sshd') {
      const a = get(name);
      self.setAccount(name, { failures: a.failures + n, lastFailure: clock.now(), lastFailureSource: source });
    },
    failNext(method, error) {
      failures.set(method, error);
    },
    hold(method) {
      let release!: () => void;
      let reached!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const reachedP = new Promise<void>((r) => (reached = r));
      holds.set(method, { reached, gate });
      return { reached: reachedP, release };
    },
    passwordMatches: (name, password) => accounts.get(name)?.passwordDigest === digest(password),
  };
  return self;
}
