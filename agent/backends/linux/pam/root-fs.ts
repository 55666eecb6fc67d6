/**
 * Read-only file access as a process on the node sees it, optionally under another root (a fixture
 * tree laid out as an image's `/`): symlinks are resolved by hand against that root, so an absolute link
 * such as /etc/pam.d/system-auth -> /etc/authselect/system-auth resolves inside the tree, never on the
 * host. Every answer says which path was really read, for `doctor`.
 */
import { lstat, readFile, readlink } from 'node:fs/promises';
import { posix } from 'node:path';

/** What a read found: the text, or why there is none (ENOENT, EACCES, ELOOP, ...). */
export type ReadResult =
  | { readonly ok: true; readonly text: string; readonly realPath: string; readonly links: readonly string[] }
  | { readonly ok: false; readonly code: string; readonly realPath?: string; readonly links: readonly string[] };

/** lstat-like facts about one path (not following a final symlink). */
export interface PathInfo {
  readonly exists: boolean;
  readonly isFile: boolean;
  readonly isSymlink: boolean;
  readonly mode: number;
}

export interface RootFs {
  /** "/" on a real node; a directory holding an image's tree in tests. */
  readonly root: string;
  /** Reads `path` (absolute, as the node names it), following symlinks as the kernel would (40 at most). */
  read(path: string): Promise<ReadResult>;
  /** Whether `path` resolves to something (symlinks followed). */
  exists(path: string): Promise<boolean>;
  /** lstat of `path` after resolving the directories on the way (the last component is not followed). */
  info(path: string): Promise<PathInfo>;
  /** The host path to open for `path`, its directories resolved inside the root (the last component is not followed). */
  hostPath(path: string): Promise<string>;
}

const MAX_LINKS = 40;

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? 'EIO';
}

/** A RootFs over `root` ("/" for the node itself). */
export function rootFs(root = '/'): RootFs {
  const onHost = (p: string): string => (root === '/' ? p : posix.join(root, p));

  /** Resolves every component of `path`; with followLast=false the final component is left as it is. */
  async function resolve(
    path: string,
    followLast: boolean,
  ): Promise<{ path?: string; code?: string; links: string[] }> {
    const links: string[] = [];
    let pending = posix.normalize(path).split('/').filter(Boolean);
    let done = '/';
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '..') {
        done = posix.dirname(done);
        continue;
      }
      const next = posix.join(done, part);
      if (pending.length === 0 && !followLast) return { path: next, links };
      let st;
      try {
        st = await lstat(onHost(next));
      } catch (e) {
        return { path: posix.join(next, ...pending), code: errCode(e), links };
      }
      if (!st.isSymbolicLink()) {
        done = next;
        continue;
      }
      if (++hops > MAX_LINKS) return { code: 'ELOOP', links };
      let target: string;
      try {
        target = await readlink(onHost(next));
      } catch (e) {
        return { code: errCode(e), links };
      }
      links.push(`${next} -> ${target}`);
      const base = target.startsWith('/') ? '/' : done;
      pending = [...posix.normalize(posix.join(base, target)).split('/').filter(Boolean), ...pending];
      done = '/';
    }
    return { path: done, links };
  }

  return {
    root,
    async read(path) {
      const r = await resolve(path, true);
      if (r.code || !r.path) return { ok: false, code: r.code ?? 'ENOENT', realPath: r.path, links: r.links };
      try {
        return { ok: true, text: await readFile(onHost(r.path), 'utf8'), realPath: r.path, links: r.links };
      } catch (e) {
        return { ok: false, code: errCode(e), realPath: r.path, links: r.links };
      }
    },
    async exists(path) {
      const r = await resolve(path, true);
      return !r.code;
    },
    async hostPath(path) {
      const r = await resolve(path, false);
      return onHost(r.path ?? path);
    },
    async info(path) {
      const r = await resolve(path, false);
      if (r.code || !r.path) return { exists: false, isFile: false, isSymlink: false, mode: 0 };
      try {
        const st = await lstat(onHost(r.path));
        return { exists: true, isFile: st.isFile(), isSymlink: st.isSymbolicLink(), mode: st.mode };
      } catch {
        return { exists: false, isFile: false, isSymlink: false, mode: 0 };
      }
    },
  };
}
