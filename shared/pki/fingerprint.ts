/**
 * SHA-256 certificate fingerprints in the one form fleetpass prints, stores and compares:
 * "sha256:<64 lower-case hex>". No X.509 library here, so the agent's backends can use it cheaply.
 */

/** 32 bytes in hex, a colon allowed between bytes (as Node's fingerprint256 and openssl print them). */
const HEX_32 = '(?:[0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}';

/** A fingerprint as a config file may give it: "sha256:ab12…", "AB:12:…" or plain hex. */
export const SHA256_FINGERPRINT = new RegExp(`^(?:sha256:)?${HEX_32}$`);

/** The same with the "sha256:" prefix required (any case), as the controller prints it for `--ca-fingerprint`. */
export const PREFIXED_SHA256_FINGERPRINT = new RegExp(`^sha256:${HEX_32}$`, 'i');

/** "sha256:<hex>" from Node's colon-separated, upper-case `fingerprint256`. */
export function formatFingerprint(colonHex: string): string {
  return `sha256:${colonHex.replace(/:/g, '').toLowerCase()}`;
}

/** "sha256:<hex>" from any spelling the patterns above accept (prefix optional, colons and upper case allowed). */
export function normalizeFingerprint(text: string): string {
  return formatFingerprint(text.replace(/^sha256:/i, ''));
}
