/** TEST ONLY: polls a condition (real time, for real processes and sockets) until true or a timeout. */

/** Resolves when `cond()` is truthy; rejects after `timeoutMs` naming `what`. */
export async function waitUntil(cond: () => unknown, timeoutMs = 5000, what = 'a condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
