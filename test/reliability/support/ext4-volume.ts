/**
 * TEST ONLY: a small real ext4 file system on a loop device, mounted under a temp folder, that a test
 * can make stop taking writes while files are open in it. A running process keeps its data file open,
 * so the kernel refuses `mount -o remount,ro` (busy); instead `stopWrites()` sends ext4's shutdown ioctl
 * (EXT4_IOC_SHUTDOWN, what the kernel itself does to a file system it no longer trusts): every later
 * write fails with EIO, while everything already synced stays on the device. `remount()` then mounts the
 * device again (journal replayed) to see what survived. Needs root, losetup and mkfs.ext4.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeRoot } from '../../helpers/controller-harness';

/** _IOR('X', 125, __u32) */
const EXT4_IOC_SHUTDOWN = 0x8004587d;
/** Do not flush the journal first: only what was already synced survives. */
const EXT4_GOING_FLAGS_NOLOGFLUSH = 2;

export interface Ext4Volume {
  mountPoint: string;
  stopWrites(): void;
  /** Unmounts (lazily: the stopped file system may still have open files) and mounts the device again, until it takes writes. */
  remount(): Promise<void>;
  destroy(): void;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function createExt4Volume(sizeMb = 64): Ext4Volume {
  const root = mkdtempSync(join(tmpdir(), 'fp-ext4-'));
  const image = join(root, 'disk.img');
  const mountPoint = join(root, 'mnt');
  mkdirSync(mountPoint);
  const fd = openSync(image, 'w');
  closeSync(fd);
  run('truncate', ['-s', `${sizeMb}M`, image]);
  run('mkfs.ext4', ['-q', '-F', image]);
  const device = run('losetup', ['--find', '--show', image]);
  let mounted = false;
  const mount = () => {
    run('mount', ['-t', 'ext4', device, mountPoint]);
    mounted = true;
  };
  mount();
  return {
    mountPoint,
    stopWrites() {
      // Node has no ioctl; python3 (present wherever the deploy tests run) sends it.
      run('python3', [
        '-c',
        `import fcntl, os, struct; fd = os.open(${JSON.stringify(mountPoint)}, os.O_RDONLY); fcntl.ioctl(fd, ${EXT4_IOC_SHUTDOWN}, struct.pack('I', ${EXT4_GOING_FLAGS_NOLOGFLUSH}))`,
      ]);
    },
    async remount() {
      run('umount', ['-l', mountPoint]);
      mounted = false;
      // A lazily unmounted file system lives on while anything still holds one of its files (an fd the
      // stopped controller has not let go yet), and mounting the device again then hands back that same
      // shut-down superblock: files open but every write fails. So mount until a write really goes to disk.
      const probe = join(mountPoint, '.fp-remount-probe');
      const deadline = Date.now() + 30_000;
      for (;;) {
        mount();
        try {
          const fd = openSync(probe, 'w');
          try {
            writeSync(fd, 'ok');
            fsyncSync(fd);
          } finally {
            closeSync(fd);
          }
          unlinkSync(probe);
          return;
        } catch (e) {
          if (Date.now() > deadline)
            throw new Error(`the remounted ext4 volume still refuses writes: ${String(e)}`, { cause: e });
          run('umount', ['-l', mountPoint]);
          mounted = false;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    destroy() {
      try {
        if (mounted) run('umount', ['-l', mountPoint]);
      } finally {
        try {
          run('losetup', ['-d', device]);
        } finally {
          removeRoot(root);
        }
      }
    },
  };
}
