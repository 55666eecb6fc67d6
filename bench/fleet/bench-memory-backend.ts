/**
 * BENCHMARK ONLY: an in-memory AccountBackend for simulated nodes, so a fleet of agents can run on one
 * machine without touching real accounts. It models the bare minimum of a pam_faillock node (a failure
 * count that locks at `deny`) and counts every call per account, so a benchmark can check that each
 * operation was applied exactly once. Never shipped: it lives under bench/ and no agent config selects it.
 */
import { createHash } from 'node:crypto';
import { FleetpassError } from '../../shared/errors';
import { Action, Backend, FailureCounter, LockReason, type AccountState } from '../../shared/gen/fleetpass/v1/common';
import type { AccountBackend, ChangeResult } from '../../agent/backends/backend';

export interface BenchAccount {
  failures: number;
  passwordDigest?: string;
}

export interface BenchMemoryBackend extends AccountBackend {
  /** Calls per method, all accounts together. */
  readonly calls: { inspect: number; unlock: number; resetPassword: number };
  /** Locks `account` (failures = deny), as failed logins would. */
  lock(account: string): void;
}

/** Creates a BENCHMARK-ONLY backend holding `accounts`, each locked when `locked` is true. */
export function createBenchMemoryBackend(options: {
  accounts: readonly string[];
  locked?: boolean;
  deny?: number;
}): BenchMemoryBackend {
  const deny = options.deny ?? 3;
  const accounts = new Map<string, BenchAccount>(
    options.accounts.map((a) => [a, { failures: options.locked ? deny : 0 }]),
  );
  const calls = { inspect: 0, unlock: 0, resetPassword: 0 };

  function get(name: string): BenchAccount {
    const a = accounts.get(name);
    if (!a)
      throw new FleetpassError(
        'FP_ACCOUNT_NOT_FOUND',
        `no account ${JSON.stringify(name.slice(0, 40))} on this simulated node`,
      );
    return a;
  }

  function state(name: string): AccountState {
    const a = accounts.get(name);
    const locked = !!a && a.failures >= deny;
    return {
      backend: Backend.BACKEND_LINUX,
      account: name,
      exists: !!a,
      locked,
      lockReasons: locked ? [LockReason.LOCK_REASON_TOO_MANY_FAILURES] : [],
      failureCount: a?.failures ?? 0,
      denyThreshold: deny,
      lockEnds: undefined,
      lockPermanent: false,
      lastFailure: undefined,
      lastFailureSource: '',
      passwordChanged: undefined,
      passwordExpires: undefined,
      observed: new Date(),
      counter: FailureCounter.FAILURE_COUNTER_FAILLOCK,
      mustChangePassword: false,
      details: {},
    };
  }

  return {
    calls,
    describe: () => ({
      backend: Backend.BACKEND_LINUX,
      actions: [Action.ACTION_UNLOCK, Action.ACTION_RESET_PASSWORD, Action.ACTION_REFRESH_STATE],
      description: 'BENCHMARK-ONLY in-memory backend',
    }),
    async inspect(name) {
      calls.inspect++;
      return state(name);
    },
    async unlock(name): Promise<ChangeResult> {
      calls.unlock++;
      const a = get(name);
      const before = state(name);
      a.failures = 0;
      return { before, after: state(name), notes: [] };
    },
    async resetPassword(name, password): Promise<ChangeResult> {
      calls.resetPassword++;
      const a = get(name);
      const before = state(name);
      a.passwordDigest = createHash('sha256').update(password).digest('hex');
      a.failures = 0;
      return { before, after: state(name), notes: [] };
    },
    lock(name) {
      get(name).failures = deny;
    },
  };
}
