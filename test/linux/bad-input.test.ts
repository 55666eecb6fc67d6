/**
 * Bad input reaches the real backend inside a sandbox: every bad name or password is refused with a
 * stable code and nothing on disk changes (account files, faillock records).
 */
import { createHash } from 'node:crypto';
import { createPamSandbox, type PamSandbox } from '../../shared/pam-sandbox';
import { startSandboxedBackend, type SandboxedBackend } from './helpers/sandboxed-backend';

let sb: PamSandbox;
let backend: SandboxedBackend;

beforeAll(async () => {
  sb = await createPamSandbox({ users: [{ name: 'ilmnuser', password: 'Right-pw-1' }] });
  backend = startSandboxedBackend(sb);
  await sb.failLogins('ilmnuser', 3);
});
afterAll(async () => {
  await backend?.stop();
  await sb?.destroy();
});

/** Hashes of everything an action could change inside the sandbox. */
async function diskState(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of ['/etc/passwd', '/etc/shadow', '/etc/group', '/run/faillock/ilmnuser']) {
    out[f] = createHash('sha256')
      .update(await sb.readFile(f))
      .digest('hex');
  }
  out['/run/faillock'] = (await sb.exec(['ls', '-a', '/run/faillock'])).stdout;
  out['/etc'] = (await sb.exec(['ls', '-a', '/etc'])).stdout;
  return out;
}

const BAD_NAMES: Array<[string, string]> = [
  ['path traversal', '../x'],
  ['shell metacharacters', 'root;id'],
  ['an option', '-rf'],
  ['empty', ''],
  ['300 characters', 'a'.repeat(300)],
  ['a slash', 'ilmn/user'],
  ['a newline', 'ilmnuser\nroot'],
];

describe('bad account names', () => {
  it.each(BAD_NAMES)(
    'refuses %s with FP_ACCOUNT_NAME_INVALID for every action and changes nothing',
    async (_label, name) => {
      const before = await diskState();
      await expect(backend.inspect(name)).rejects.toMatchObject({ code: 'FP_ACCOUNT_NAME_INVALID' });
      await expect(backend.unlock(name)).rejects.toMatchObject({ code: 'FP_ACCOUNT_NAME_INVALID' });
      await expect(backend.resetPassword(name, 'Some-pw-2')).rejects.toMatchObject({ code: 'FP_ACCOUNT_NAME_INVALID' });
      for (const op of ['setLinuxPassword', 'resetFailureCounter', 'removePasswordLock'] as const) {
        await expect(backend.call(op, name, { password: 'Some-pw-2' })).rejects.toMatchObject({
          code: 'FP_ACCOUNT_NAME_INVALID',
        });
      }
      expect(await diskState()).toEqual(before);
    },
  );

  it('reports a non-existent user as missing on inspect and refuses actions with FP_ACCOUNT_NOT_FOUND', async () => {
    const before = await diskState();
    expect(await backend.inspect('nosuchuser')).toMatchObject({ account: 'nosuchuser', exists: false, locked: false });
    await expect(backend.unlock('nosuchuser')).rejects.toMatchObject({ code: 'FP_ACCOUNT_NOT_FOUND' });
    await expect(backend.resetPassword('nosuchuser', 'Some-pw-2')).rejects.toMatchObject({
      code: 'FP_ACCOUNT_NOT_FOUND',
    });
    await expect(backend.call('setLinuxPassword', 'nosuchuser', { password: 'Some-pw-2' })).rejects.toMatchObject({
      code: 'FP_ACCOUNT_NOT_FOUND',
    });
    expect(await diskState()).toEqual(before);
  });
});

describe('bad passwords', () => {
  it.each([
    ['empty', '', 'FP_SECRET_MISSING'],
    ['a newline (a second chpasswd line)', 'pw\nroot:owned', 'FP_PASSWORD_POLICY'],
    ['a carriage return', 'pw\rx', 'FP_PASSWORD_POLICY'],
    ['a NUL', 'pw\0x', 'FP_PASSWORD_POLICY'],
    ['600 characters', 'p'.repeat(600), 'FP_PASSWORD_POLICY'],
  ])('refuses %s before changing anything', async (_label, password, code) => {
    const before = await diskState();
    const err = await backend.resetPassword('ilmnuser', password).catch((e: unknown) => e);
    expect(err).toMatchObject({ code });
    if (password.length > 3) expect(JSON.stringify(err)).not.toContain(password);
    expect(await diskState()).toEqual(before);
    // Still locked: the refused reset did not clear the counter either.
    expect(await sb.authenticate('ilmnuser', 'Right-pw-1')).toBe(false);
  });
});

describe('bad config', () => {
  it('refuses a relative path or an unknown key with FP_CONFIG_INVALID naming the key', async () => {
    await expect(backend.inspect('ilmnuser', { config: { pamDir: 'etc/pam.d' } })).rejects.toMatchObject({
      code: 'FP_CONFIG_INVALID',
      message: expect.stringMatching(/backends\.linux\.pamDir/),
    });
    await expect(backend.inspect('ilmnuser', { config: { pamdir: '/etc/pam.d' } as never })).rejects.toMatchObject({
      code: 'FP_CONFIG_INVALID',
    });
  });
});
