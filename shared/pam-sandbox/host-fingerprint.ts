/**
 * A fingerprint of the host's account and PAM state, taken before and after sandbox work to prove the
 * host was never touched: account files, /etc/pam.d, /etc/security, the failure counters, /home names.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface FingerprintTarget {
  readonly path: string;
  /** How deep to walk a directory; 0 lists names only. */
  readonly depth: number;
}

export const HOST_ACCOUNT_TARGETS: readonly FingerprintTarget[] = [
  { path: '/etc/passwd', depth: 0 },
  { path: '/etc/shadow', depth: 0 },
  { path: '/etc/group', depth: 0 },
  { path: '/etc/gshadow', depth: 0 },
  { path: '/etc/subuid', depth: 0 },
  { path: '/etc/subgid', depth: 0 },
  { path: '/etc/pam.d', depth: 2 },
  { path: '/etc/security', depth: 3 },
  { path: '/run/faillock', depth: 1 },
  { path: '/var/run/faillock', depth: 1 },
  { path: '/var/log/tallylog', depth: 0 },
  { path: '/var/log/faillog', depth: 0 },
  { path: '/home', depth: 0 },
  { path: '/var/mail', depth: 0 },
  { path: '/var/spool/mail', depth: 0 },
];

/** Files at least this big (sparse lastlog/faillog) are fingerprinted by size and mtime, not content. */
const CONTENT_LIMIT = 4 * 1024 * 1024;

async function fingerprintPath(path: string, depth: number, out: Record<string, string>): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch {
    out[path] = 'absent';
    return;
  }
  const meta = `mode=${st.mode.toString(8)} uid=${st.uid} gid=${st.gid}`;
  if (st.isSymbolicLink()) {
    out[path] = `link ${await readlink(path)} ${meta}`;
  } else if (st.isFile()) {
    const body =
      st.size < CONTENT_LIMIT
        ? createHash('sha256')
            .update(await readFile(path))
            .digest('hex')
        : `size=${st.size} mtime=${st.mtimeMs}`;
    out[path] = `file ${body} ${meta}`;
  } else if (st.isDirectory()) {
    const names = (await readdir(path)).sort();
    out[path] = `dir [${names.join(',')}] ${meta}`;
    if (depth > 0) for (const n of names) await fingerprintPath(join(path, n), depth - 1, out);
  } else {
    out[path] = `other ${meta}`;
  }
}

/** Path -> description (content hash, mode, owner, entries) for every target; compare two with toEqual. */
export async function hostAccountFingerprint(
  targets: readonly FingerprintTarget[] = HOST_ACCOUNT_TARGETS,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of targets) await fingerprintPath(t.path, t.depth, out);
  return out;
}
