/**
 * The demo's terminal output. Its reader may go away first (`npm start | tee log`, then Ctrl-C: tee dies
 * before the demo has stopped anything), and a write to a closed pipe must not crash the demo half way
 * through stopping its agents and sandboxes: once a stream fails, further output to it is dropped.
 */

export interface Terminal {
  out(text: string): void;
  err(text: string): void;
}

function guarded(stream: NodeJS.WritableStream): (text: string) => void {
  let gone = false;
  // Any error on the terminal (EPIPE, EIO after a hangup) only ends the output; stopping carries on.
  stream.on('error', () => {
    gone = true;
  });
  return (text) => {
    if (gone) return;
    try {
      stream.write(text);
    } catch {
      gone = true;
    }
  };
}

/** Output that survives its reader: stdout and stderr, each dropped once it fails. */
export function createTerminal(
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
): Terminal {
  return { out: guarded(stdout), err: guarded(stderr) };
}
