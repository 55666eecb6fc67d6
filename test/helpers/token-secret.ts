/** The secret part of an `fpt_<id>_<secret>` / `fpe_<id>_<secret>` token (base64url, which may itself hold "_"). */
export function tokenSecret(token: string): string {
  const m = /^fp[et]_[0-9a-f]{16}_(.+)$/.exec(token.trim());
  if (!m) throw new Error('not a fleetpass token');
  return m[1];
}
