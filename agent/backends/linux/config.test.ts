import { z } from 'zod';
import { fakeClock } from '../../../shared/clock';
import { Action, Backend } from '../../../shared/gen/fleetpass/v1/common';
import { createLinuxBackend, createLinuxContext, linuxBackendConfigSchema } from '.';

describe('linuxBackendConfigSchema', () => {
  it("defaults to a real node's paths", () => {
    expect(linuxBackendConfigSchema.parse({})).toEqual({
      counter: 'auto',
      pamDir: '/etc/pam.d',
      pamServices: [],
      faillockConf: '/etc/security/faillock.conf',
      passwdPath: '/etc/passwd',
      shadowPath: '/etc/shadow',
      groupPath: '/etc/group',
      commandTimeoutMs: 15000,
      unlockCommand: 'passwd',
    });
  });

  it('can be extended by the agent config with an enabled flag', () => {
    const schema = linuxBackendConfigSchema.extend({ enabled: z.boolean().default(true) });
    expect(schema.parse({ counter: 'tally2' })).toMatchObject({ enabled: true, counter: 'tally2' });
  });

  it('rejects bad values and unknown keys with FP_CONFIG_INVALID naming each key', () => {
    let err: unknown;
    try {
      createLinuxContext({ config: { counter: 'pam_tally' as never, commandTimeoutMs: 5, pamServices: ['../x'] } });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'FP_CONFIG_INVALID' });
    for (const key of [
      'backends.linux.counter:',
      'backends.linux.commandTimeoutMs:',
      'backends.linux.pamServices.0:',
    ]) {
      expect((err as Error).message).toContain(key);
    }
    expect(() => createLinuxContext({ config: { shadowpath: '/x' } as never })).toThrow(
      expect.objectContaining({ code: 'FP_CONFIG_INVALID' }),
    );
  });
});

describe('createLinuxBackend', () => {
  it('describes itself as the Linux backend with unlock, reset and refresh', () => {
    const backend = createLinuxBackend({
      config: { counter: 'faillock', unlockCommand: 'usermod' },
      clock: fakeClock(),
    });
    expect(backend.describe()).toEqual({
      backend: Backend.BACKEND_LINUX,
      actions: [Action.ACTION_UNLOCK, Action.ACTION_RESET_PASSWORD, Action.ACTION_REFRESH_STATE],
      description: 'Linux local accounts (chpasswd, usermod -U); failure counter: faillock',
    });
  });

  it('inspects with the injected clock and validates names first', async () => {
    const clock = fakeClock('2030-01-02T03:04:05Z');
    const backend = createLinuxBackend({ clock });
    // Reading the host is safe: inspect never changes anything. A name that cannot exist is reported missing.
    const state = await backend.inspect('fp-no-such-user');
    expect(state).toMatchObject({
      backend: Backend.BACKEND_LINUX,
      account: 'fp-no-such-user',
      exists: false,
      locked: false,
    });
    expect(state.observed).toEqual(new Date('2030-01-02T03:04:05Z'));
    await expect(backend.inspect('root;id')).rejects.toMatchObject({ code: 'FP_ACCOUNT_NAME_INVALID' });
    await expect(backend.unlock('fp-no-such-user')).rejects.toMatchObject({ code: 'FP_ACCOUNT_NOT_FOUND' });
  });
});
