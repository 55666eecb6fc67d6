/**
 * Failed console sign-ins counted per source address and per API token id from that address (the
 * `fpt_<id>` prefix). Once a key has too many failures in its window, sign-ins for it are refused without
 * checking the token until the window ends. The token count is per address on purpose: counted per token
 * alone, five wrong secrets from anywhere would lock the real owner out of the console (token ids are not
 * secret), while guessing a token's 256-bit secret is hopeless however many addresses try. The admin
 * authenticator keeps its own per-source flood limit underneath; this one is stricter and web-only.
 */
import type { Clock } from '../../shared/clock';

export interface SignInLimits {
  windowMs: number;
  /** Failures from one address per window before it is refused. */
  perSource: number;
  /** Failures naming one token id from one address per window before that pair is refused. */
  perToken: number;
  /** Keys tracked at once; the oldest window is forgotten first. */
  maxKeys: number;
}

export const DEFAULT_SIGNIN_LIMITS: SignInLimits = {
  windowMs: 15 * 60_000,
  perSource: 20,
  perToken: 5,
  maxKeys: 10_000,
};

interface Window {
  start: number;
  failures: number;
  /** Refusals while blocked; the first one is audited, the rest only counted. */
  refusals: number;
}

export type LimitVerdict =
  | { blocked: false }
  | {
      blocked: true;
      by: 'source' | 'token';
      key: string;
      retryAfterSeconds: number;
      firstRefusal: boolean;
      refusals: number;
    };

export type SignInLimiter = ReturnType<typeof createSignInLimiter>;

export function createSignInLimiter(clock: Clock, limits: SignInLimits = DEFAULT_SIGNIN_LIMITS) {
  const windows = new Map<string, Window>();

  function current(key: string, now: number, create: boolean): Window | undefined {
    let w = windows.get(key);
    if (w && now - w.start >= limits.windowMs) {
      windows.delete(key);
      w = undefined;
    }
    if (!w && create) {
      if (windows.size >= limits.maxKeys) windows.delete(windows.keys().next().value as string);
      w = { start: now, failures: 0, refusals: 0 };
      windows.set(key, w);
    }
    return w;
  }

  function keys(
    source: string,
    tokenId: string | undefined,
  ): Array<{ key: string; by: 'source' | 'token'; max: number }> {
    const out: Array<{ key: string; by: 'source' | 'token'; max: number }> = [
      { key: `ip:${source}`, by: 'source', max: limits.perSource },
    ];
    if (tokenId) out.push({ key: `token:${tokenId}@${source}`, by: 'token', max: limits.perToken });
    return out;
  }

  return {
    /** Whether a sign-in from `source` naming `tokenId` must be refused unchecked; counts the refusal. */
    check(source: string, tokenId: string | undefined): LimitVerdict {
      const now = clock.now().getTime();
      for (const k of keys(source, tokenId)) {
        const w = current(k.key, now, false);
        if (w && w.failures >= k.max) {
          w.refusals++;
          return {
            blocked: true,
            by: k.by,
            key: k.key,
            retryAfterSeconds: Math.max(1, Math.ceil((w.start + limits.windowMs - now) / 1000)),
            firstRefusal: w.refusals === 1,
            refusals: w.refusals,
          };
        }
      }
      return { blocked: false };
    },
    failed(source: string, tokenId: string | undefined): void {
      const now = clock.now().getTime();
      for (const k of keys(source, tokenId)) current(k.key, now, true)!.failures++;
    },
    /** A good sign-in clears its token's count there (not the address's: one valid token does not excuse guessing). */
    succeeded(source: string, tokenId: string | undefined): void {
      if (tokenId) windows.delete(`token:${tokenId}@${source}`);
    },
    limits,
  };
}
