/**
 * Free text that fleetpass stores and shows again (reasons, notes, hostnames, labels) must be plain
 * printable text: no control characters (a terminal escape in a hostname would rewrite the operator's
 * screen; a lone carriage return overwrites a log line; a NUL cuts a line short in other tools), no
 * bidirectional overrides (text that reads differently than it is stored), and no U+FFFD, which is what
 * invalid UTF-8 on the wire decodes to. Line breaks (LF or CRLF) are allowed in free text such as a
 * pasted ticket, never in names.
 */

// C0 controls but tab, LF and CR, DEL, C1 controls, bidi embeddings/overrides/isolates, U+FFFD, and (the u
// flag reads surrogate pairs as one code point) lone surrogates; then a CR not followed by LF.
const FORBIDDEN =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufffd\ud800-\udfff]|\r(?!\n)/u;
const LINE_BREAK = /[\r\n]/;

export interface TextRules {
  /** Longest allowed, in characters. */
  max: number;
  /** A name: no line breaks at all. */
  singleLine?: boolean;
}

function describe(ch: string): string {
  const cp = ch.codePointAt(0)!;
  if (cp === 0xfffd) return 'invalid UTF-8 (or U+FFFD)';
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
    return `a bidirectional control character (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`;
  if (cp >= 0xd800 && cp <= 0xdfff) return 'a lone UTF-16 surrogate';
  return `a control character (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`;
}

/** Why `text` is not acceptable under `rules` (naming `what`), or undefined when it is. */
export function textProblem(what: string, text: string, rules: TextRules): string | undefined {
  if (text.length > rules.max) return `${what} is longer than ${rules.max} characters`;
  const m = FORBIDDEN.exec(text) ?? (rules.singleLine ? LINE_BREAK.exec(text) : null);
  if (m) return `${what} contains ${describe(m[0])} at position ${m.index + 1}; use plain printable text`;
  return undefined;
}
