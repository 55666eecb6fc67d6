/**
 * TEST ONLY: an account backend whose state and call log live in files, so they outlive a SIGKILLed
 * agent process: `<dir>/accounts.json` (failure counts) and `<dir>/calls.log` (one line when a change
 * starts, one when it is done). A test counts the "start" lines to prove no operation was applied twice,
 * across crashes. Each change takes `delayMs`, so a kill can land in the middle of one.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FleetpassError } from '../../../shared/errors';
import {
  Action,
  Backend,
  FailureCounter,
  LockReason,
  type AccountState,
} from '../../../shared/gen/fleetpass/v1/common';
import type { AccountBackend, ChangeResult } from '../../../agent/backends/backend';

const DENY = 3;

export interface CallLine {
  method: 'unlock' | 'resetPassword';
  account: string;
  phase: 'start' | 'done';
  pid: number;
}

/** The call log of a file backend folder. */
export function readCalls(dir: string): CallLine[] {
  const file = join(dir, 'calls.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CallLine);
}

/** Whether `account` is locked in a file backend folder. */
export function isLocked(dir: string, account: string): boolean {
  const accounts = JSON.parse(readFileSync(join(dir, 'accounts.json'), 'utf8')) as Record<string, number>;
  return (accounts[account] ?? 0) >= DENY;
}

/** Creates the folder's accounts, each locked. */
export function seedFileBackend(dir: string, accounts: readonly string[]): void {
  writeFileSync(join(dir, 'accounts.json'), JSON.stringify(Object.fromEntries(accounts.map((a) => [a, DENY]))));
}

/** A backend over the files in `dir` (seeded first with seedFileBackend). */
export function createFileBackend(dir: string, delayMs: number): AccountBackend {
  const accountsFile = join(dir, 'accounts.json');
  const calls = join(dir, 'calls.log');
  const load = () => JSON.parse(readFileSync(accountsFile, 'utf8')) as Record<string, number>;
  const log = (line: Omit<CallLine, 'pid'>) =>
    appendFileSync(calls, `${JSON.stringify({ ...line, pid: process.pid })}\n`);

  function state(name: string): AccountState {
    const failures = load()[name];
    const exists = failures !== undefined;
    const locked = exists && failures >= DENY;
    return accountStateOf(name, exists, locked, failures ?? 0);
  }

  async function change(method: CallLine['method'], name: string): Promise<ChangeResult> {
    if (load()[name] === undefined) throw new FleetpassError('FP_ACCOUNT_NOT_FOUND', `no account ${name}`);
    const before = state(name);
    log({ method, account: name, phase: 'start' });
    await new Promise((r) => setTimeout(r, delayMs));
    writeFileSync(accountsFile, JSON.stringify({ ...load(), [name]: 0 }));
    log({ method, account: name, phase: 'done' });
    return { before, after: state(name), notes: [] };
  }

  return {
    describe: () => ({
      backend: Backend.BACKEND_LINUX,
      actions: [Action.ACTION_UNLOCK, Action.ACTION_RESET_PASSWORD, Action.ACTION_REFRESH_STATE],
      description: 'TEST-ONLY file backend',
    }),
    inspect: async (name) => state(name),
    unlock: (name) => change('unlock', name),
    resetPassword: (name) => change('resetPassword', name),
  };
}

function accountStateOf(account: string, exists: boolean, locked: boolean, failures: number): AccountState {
  return {
    backend: Backend.BACKEND_LINUX,
    account,
    exists,
    locked,
    lockReasons: locked ? [LockReason.LOCK_REASON_TOO_MANY_FAILURES] : [],
    failureCount: failures,
    denyThreshold: DENY,
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
