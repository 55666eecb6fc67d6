/**
 * The reset's failure branches that a real router (or the simulator) cannot be made to hit on demand, such
 * as chpasswd failing twice in a row, with scripted stand-ins for the Linux primitives and the REST client.
 * The normal path and the reachable failures run for real in test/ssr/.
 */
import { FleetpassError } from '../../../shared/errors';
import { AccountState, Backend } from '../../../shared/gen/fleetpass/v1/common';
import { silentLogger } from '../../../shared/logger';
import type { SsrLinuxOps, SsrObservation } from './inspect-account';
import { resetSsrPassword, type ResetContext } from './reset-password';
import type { SsrRestClient } from './rest-client';

const NEW = 'Requested#2026';

function context(overrides: { linux?: Partial<SsrLinuxOps>; client?: Partial<SsrRestClient> } = {}) {
  const calls: string[] = [];
  const passwords: string[] = [];
  const linux: SsrLinuxOps = {
    inspect: async () => AccountState.fromPartial({ backend: Backend.BACKEND_LINUX, account: 'u', exists: true }),
    setPassword: async (_a, pw) => {
      calls.push('setPassword');
      passwords.push(pw);
    },
    resetFailureCounter: async () => void calls.push('resetFailureCounter'),
    ...overrides.linux,
  };
  const client: SsrRestClient = {
    login: async (_u, c) => {
      calls.push(`login:${'password' in c && c.password === NEW ? 'new' : 'one-time'}`);
      return 'token';
    },
    listUsers: async () => [],
    changePassword: async (_t, _n, old) => {
      calls.push('changePassword');
      passwords.push(`old=${old}`);
    },
    probe: async () => undefined,
    close: () => undefined,
    ...overrides.client,
  };
  const observe = async (account: string): Promise<SsrObservation> => ({
    state: AccountState.fromPartial({ backend: Backend.BACKEND_SSR, account, exists: true }),
    service: { active: true, state: 'active' },
    store: { status: 'present', user: { name: account, roles: ['user'], authenticationType: 'local', enabled: true } },
  });
  const ctx: ResetContext = { linux, client, observe, log: silentLogger() };
  return { ctx, calls, passwords };
}

it('runs the documented order and changes from a one-time password that shares no character with the new one', async () => {
  const { ctx, calls, passwords } = context();
  await resetSsrPassword('u', NEW, ctx);
  expect(calls).toEqual([
    'setPassword',
    'resetFailureCounter',
    'login:one-time',
    'changePassword',
    'resetFailureCounter',
    'login:new',
  ]);
  const oneTime = passwords[0];
  expect(passwords[1]).toBe(`old=${oneTime}`);
  expect([...oneTime].filter((c) => NEW.includes(c))).toEqual([]);
});

it('says FP_SSR_RESET_INCOMPLETE when the Linux fallback fails too', async () => {
  let n = 0;
  const { ctx } = context({
    linux: {
      setPassword: async () => {
        if (n++ > 0) throw new FleetpassError('FP_COMMAND_FAILED', 'chpasswd failed');
      },
    },
    client: {
      changePassword: async () => {
        throw new FleetpassError('FP_SSR_UNREACHABLE');
      },
    },
  });
  await expect(resetSsrPassword('u', NEW, ctx)).rejects.toMatchObject({
    code: 'FP_SSR_RESET_INCOMPLETE',
    details: { step: 'ssr-change', partial: 'unknown-password', causeCode: 'FP_SSR_UNREACHABLE' },
  });
});

it('names linux-password and calls no SSR when chpasswd fails first', async () => {
  const { ctx, calls } = context({
    linux: {
      setPassword: async () => {
        throw new FleetpassError('FP_COMMAND_FAILED', 'the command "chpasswd" failed (exit code 1)');
      },
    },
  });
  const e = await resetSsrPassword('u', NEW, ctx).catch((x: unknown) => x);
  expect(e).toMatchObject({ code: 'FP_COMMAND_FAILED', details: { step: 'linux-password' } });
  expect((e as Error).message).toMatch(/the password was not changed$/);
  expect(calls).toEqual([]);
});

it('turns a refused sign-in with the new password into FP_SSR_VERIFY_FAILED', async () => {
  const { ctx } = context({
    client: {
      login: async (_u, c) => {
        if ('password' in c && c.password === NEW) throw new FleetpassError('FP_SSR_AUTH_FAILED');
        return 'token';
      },
    },
  });
  await expect(resetSsrPassword('u', NEW, ctx)).rejects.toMatchObject({
    code: 'FP_SSR_VERIFY_FAILED',
    details: { step: 'verify' },
  });
});

it('names faillock-reset when the counter cannot be cleared after the SSR stored the password', async () => {
  let n = 0;
  const { ctx } = context({
    linux: {
      resetFailureCounter: async () => {
        if (n++ > 0) throw new FleetpassError('FP_FAILURE_COUNTER_IO', 'cannot write');
      },
    },
  });
  const e = await resetSsrPassword('u', NEW, ctx).catch((x: unknown) => x);
  expect(e).toMatchObject({ code: 'FP_FAILURE_COUNTER_IO', details: { step: 'faillock-reset' } });
  expect((e as Error).message).toContain('the new password is stored in the SSR');
});
