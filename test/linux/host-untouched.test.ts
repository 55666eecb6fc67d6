/**
 * The sandbox's promise: a full scenario (users, lockouts, password resets, passwd -l, tallylog writes,
 * a PAM file edit) changes the sandbox and leaves the host's accounts and PAM files exactly as they were.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createPamSandbox, hostAccountFingerprint } from '../../shared/pam-sandbox';
import { startSandboxedBackend } from './helpers/sandboxed-backend';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

it('leaves /etc/shadow, /etc/passwd, /etc/pam.d, /etc/security and the failure counters of the host unchanged', async () => {
  const before = await hostAccountFingerprint();
  const hostShadow = sha(readFileSync('/etc/shadow'));

  const sb = await createPamSandbox({
    users: [
      { name: 'ilmnuser', password: 'Host-test-pw1' },
      { name: 'ilmnadmin', password: 'Host-test-pw2' },
    ],
  });
  const backend = startSandboxedBackend(sb);
  try {
    await sb.failLogins('ilmnuser', 3);
    await backend.resetPassword('ilmnuser', 'Host-test-pw3', { temporary: true });
    await sb.exec(['passwd', '-l', 'ilmnadmin']);
    await backend.unlock('ilmnadmin');
    expect((await sb.exec(['useradd', '--create-home', 'extra'])).code).toBe(0);
    expect((await sb.exec(['test', '-d', '/home/extra'])).code).toBe(0);
    await sb.writeFile('/etc/pam.d/other', 'auth required pam_deny.so\n');
    await sb.writeFile('/var/log/tallylog', Buffer.alloc(128, 0));

    // The sandbox did change: its own shadow differs from the host's and holds the new users.
    const inside = (await sb.readFile('/etc/shadow')).toString();
    expect(inside).toMatch(/^ilmnuser:\$[^:]+:0:/m);
    expect(inside).toMatch(/^extra:/m);
    expect(sha(inside)).not.toBe(hostShadow);
    expect((await sb.exec(['id', 'extra'])).code).toBe(0);
  } finally {
    await backend.stop();
    await sb.destroy();
  }

  expect(await hostAccountFingerprint()).toEqual(before);
  expect(readFileSync('/etc/passwd', 'utf8')).not.toMatch(/^(ilmnuser|ilmnadmin|extra):/m);
  expect(existsSync('/home/extra')).toBe(false);
});
