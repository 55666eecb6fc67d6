/** Whether this machine can run PAM sandboxes, and if not, one sentence saying why (for the demo and tests). */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { createPamSandbox } from './sandbox';

export interface SandboxSupport {
  readonly ok: boolean;
  /** Why not, when ok is false. */
  readonly why?: string;
  /** Optional tools that are missing (pamtester: authenticate() and failLogins() will not work). */
  readonly notes: readonly string[];
}

const REQUIRED_TOOLS = ['unshare', 'nsenter', 'mount', 'useradd', 'chpasswd', 'getent'];
const OPTIONAL_TOOLS = ['pamtester'];
const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function installed(tool: string): boolean {
  return SEARCH_PATH.some((dir) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Checks the platform, root and the tools; with `probe`, also creates and destroys an empty sandbox, the
 * only sure test (containers often forbid mount namespaces, and overlayfs may be missing).
 */
export async function sandboxSupported(options: { probe?: boolean } = {}): Promise<SandboxSupport> {
  const notes = OPTIONAL_TOOLS.filter((t) => !installed(t)).map(
    (t) => `${t} is not installed: sandbox logins cannot be tested`,
  );
  if (process.platform !== 'linux')
    return { ok: false, why: `the PAM sandbox needs Linux, this is ${process.platform}`, notes };
  if (process.getuid?.() !== 0)
    return { ok: false, why: 'the PAM sandbox needs root (mount namespaces and overlayfs)', notes };
  const missing = REQUIRED_TOOLS.filter((t) => !installed(t));
  if (missing.length > 0) return { ok: false, why: `missing commands: ${missing.join(', ')}`, notes };
  if (options.probe) {
    try {
      const sb = await createPamSandbox();
      await sb.destroy();
    } catch (e) {
      return { ok: false, why: `a test sandbox could not be created: ${(e as Error).message}`, notes };
    }
  }
  return { ok: true, notes };
}
