/** Test-only: the SSR simulator's view of the node's Linux accounts, backed by a real-PAM sandbox. */
import type { PamSandbox } from '../../../shared/pam-sandbox';
import type { SimLinuxPort } from '../ssr-simulator';

/** PAM authentication with pamtester, chpasswd (plain and `-e`) and the shadow hash, all inside `sb`. */
export function sandboxLinuxPort(sb: PamSandbox): SimLinuxPort {
  return {
    authenticate: (user, password) => sb.authenticate(user, password, { rhost: '127.0.0.1' }),
    setPassword: (user, password) => sb.setPassword(user, password),
    readHash: async (user) => {
      const line = await sb.shadowLine(user);
      if (!line) throw new Error(`no shadow line for ${user} in the sandbox`);
      return line.split(':')[1];
    },
    writeHashes: async (entries) => {
      if (entries.length === 0) return;
      const r = await sb.exec(['chpasswd', '-e'], { input: entries.map((e) => `${e.user}:${e.hash}\n`).join('') });
      if (r.code !== 0) throw new Error(`chpasswd -e failed in the sandbox (exit ${r.code})`);
    },
  };
}
