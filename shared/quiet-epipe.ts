/**
 * For command-line entry points: a reader that stops early (`fleetpass audit | head`) closes our stdout, and
 * the next write fails with EPIPE. That is the reader's choice, not a crash: end quietly, with the exit
 * code the command already set (0 if none), instead of an unhandled 'error' event and a stack trace.
 */

/** Installs the EPIPE handler on stdout and stderr; any other stream error is still thrown. */
export function exitQuietlyOnEpipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });
  }
}
