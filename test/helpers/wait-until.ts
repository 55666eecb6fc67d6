/**
 * TEST ONLY: the one polling helper. Waits until `cond` returns a truthy value (or a promise of one) and
 * resolves with it; rejects naming `what` after `timeoutMs`. For state that arrives over the network or
 * from another process: tests wait for the state itself, never for a fixed time. Timeouts are generous,
 * since the machine running the suite is shared and loaded.
 */
export async function waitUntil<T>(
  cond: () => T | Promise<T>,
  timeoutMs: number,
  what: string,
  intervalMs = 20,
): Promise<Exclude<T, undefined | null | false | 0 | ''>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as Exclude<T, undefined | null | false | 0 | ''>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
