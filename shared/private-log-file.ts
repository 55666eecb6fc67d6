/** Opens a log file for appending, readable by its owner only (0600), also when it already existed wider. */
import { fchmodSync, openSync } from 'node:fs';

/**
 * Returns the descriptor of `file` opened for appending with mode 0600. Logs can carry node names,
 * operator names and addresses, so a file left 0644 by an older run or a umask is narrowed too.
 */
export function openPrivateLogFile(file: string): number {
  const fd = openSync(file, 'a', 0o600);
  fchmodSync(fd, 0o600);
  return fd;
}
