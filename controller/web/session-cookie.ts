/**
 * The session cookie, by hand (one cookie, fixed flags): reading it from the Cookie header and writing
 * the Set-Cookie line. The name carries the __Host- prefix, so browsers accept it only with Secure,
 * Path=/ and no Domain; it is always HttpOnly and SameSite=Strict.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The session cookie's name. */
export const SESSION_COOKIE = '__Host-fleetpass-session';

/** The session cookie's value in a request, or undefined. */
export function readSessionCookie(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const v = part.slice(eq + 1).trim();
      // Our values are base64url; anything else is not ours.
      return /^[A-Za-z0-9_-]{1,100}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}

/** The Set-Cookie line for the session cookie (callers that set more than one cookie at once). */
export function sessionCookieLine(value: string, maxAgeSeconds: number): string {
  const expires = maxAgeSeconds > 0 ? '' : '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  return `${SESSION_COOKIE}=${value}; Max-Age=${maxAgeSeconds}${expires}; Path=/; HttpOnly; Secure; SameSite=Strict`;
}

/** Sets the session cookie for `maxAgeSeconds`. */
export function setSessionCookie(reply: FastifyReply, value: string, maxAgeSeconds: number): void {
  reply.header('set-cookie', sessionCookieLine(value, maxAgeSeconds));
}

/** Tells the browser to forget the session cookie. */
export function clearSessionCookie(reply: FastifyReply): void {
  reply.header('set-cookie', sessionCookieLine('', 0));
}
