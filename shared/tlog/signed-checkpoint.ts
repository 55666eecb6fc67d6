/**
 * Signed audit checkpoints in the C2SP tlog-checkpoint format, signed as a C2SP signed note with Ed25519
 * (node:crypto). The text a checkpoint signs:
 *
 *   <origin>\n                      the log's identity, e.g. "fleetpass-audit/3f9c0a1b2c4d5e6f"
 *   <size>\n                        records in the log (decimal)
 *   <root>\n                        the Merkle tree head over them, standard base64 (shared/tlog/merkle.ts)
 *   time <ISO-8601 UTC>\n           extension line: when the controller signed it
 *
 * followed by a blank line and one signature line "— <name> <base64(key id (4 bytes) || signature)>\n".
 * The key id is the first 4 bytes of SHA-256(name || "\n" || 0x01 || public key), and the verifier key
 * (vkey) is "<name>+<key id hex>+<base64(0x01 || public key)>", as in the signed-note specification, so
 * other note tools can read both. The name is the origin.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { FleetpassError } from '../errors';

const ALG_ED25519 = 1;
const SIG_PREFIX = '\u2014 ';
const ORIGIN_RE = /^[\x21-\x7e]+$/;

/** A checkpoint's statement. */
export interface Checkpoint {
  origin: string;
  size: number;
  /** The Merkle tree head, 32 bytes. */
  root: Buffer;
  /** ISO-8601 UTC. */
  time: string;
}

/** A checkpoint with its signed-note text. */
export interface SignedCheckpoint extends Checkpoint {
  note: string;
}

/** Someone who can check checkpoint signatures: the name and public key of one log. */
export interface CheckpointVerifier {
  name: string;
  keyId: Buffer;
  publicKey: KeyObject;
  /** The vkey text. */
  vkey: string;
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' }) as { x?: string };
  if (!jwk.x) throw new FleetpassError('FP_AUDIT_INTEGRITY', 'the audit signing key is not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

function keyIdOf(name: string, raw: Buffer): Buffer {
  return createHash('sha256')
    .update(`${name}\n`)
    .update(Buffer.from([ALG_ED25519]))
    .update(raw)
    .digest()
    .subarray(0, 4);
}

/** The log identity of a public key: the origin every checkpoint of this log names. */
export function originFor(publicKey: KeyObject): string {
  return `fleetpass-audit/${createHash('sha256').update(rawPublicKey(publicKey)).digest('hex').slice(0, 16)}`;
}

/** The verifier for a public key (its origin derived from the key). */
export function verifierFor(publicKey: KeyObject): CheckpointVerifier {
  const raw = rawPublicKey(publicKey);
  const name = originFor(publicKey);
  const keyId = keyIdOf(name, raw);
  const vkey = `${name}+${keyId.toString('hex')}+${Buffer.concat([Buffer.from([ALG_ED25519]), raw]).toString('base64')}`;
  return { name, keyId, publicKey, vkey };
}

/** Reads a vkey ("name+keyid+base64(0x01 || key)"); FP_AUDIT_KEY_INVALID when it is not one. */
export function parseVkey(text: string, where = 'the audit public key'): CheckpointVerifier {
  const m = /^([\x21-\x2a\x2c-\x7e]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+={0,2})$/.exec(text.trim());
  const bytes = m ? Buffer.from(m[3], 'base64') : Buffer.alloc(0);
  if (!m || bytes.length !== 33 || bytes[0] !== ALG_ED25519)
    throw new FleetpassError('FP_AUDIT_KEY_INVALID', `${where} is not an Ed25519 verifier key (name+keyid+key)`);
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: bytes.subarray(1).toString('base64url') },
    format: 'jwk',
  });
  const v = verifierFor(publicKey);
  if (v.name !== m[1] || v.keyId.toString('hex') !== m[2])
    throw new FleetpassError('FP_AUDIT_KEY_INVALID', `${where} does not match its own name or key id`);
  return v;
}

function body(c: Checkpoint): string {
  return `${c.origin}\n${c.size}\n${c.root.toString('base64')}\ntime ${c.time}\n`;
}

/** Signs a checkpoint with the log's private key. */
export function signCheckpoint(c: Checkpoint, privateKey: KeyObject, v: CheckpointVerifier): SignedCheckpoint {
  if (c.origin !== v.name) throw new FleetpassError('FP_INTERNAL', 'a checkpoint must name its own log');
  const text = body(c);
  const sig = sign(null, Buffer.from(text, 'utf8'), privateKey);
  return { ...c, note: `${text}\n${SIG_PREFIX}${v.name} ${Buffer.concat([v.keyId, sig]).toString('base64')}\n` };
}

/** Why a note is not a valid checkpoint of this log, or the checkpoint. Never throws. */
export function openCheckpoint(
  note: string,
  v: CheckpointVerifier,
): { ok: true; checkpoint: SignedCheckpoint } | { ok: false; problem: string } {
  const split = note.indexOf('\n\n');
  if (split < 0 || note.length > 4096) return { ok: false, problem: 'it is not a signed note' };
  const text = note.slice(0, split + 1);
  const lines = text.slice(0, -1).split('\n');
  const [origin, sizeText, rootText, timeLine] = lines;
  const size = /^(0|[1-9]\d{0,15})$/.test(sizeText ?? '') ? Number(sizeText) : NaN;
  const root = Buffer.from(rootText ?? '', 'base64');
  const time = /^time (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)$/.exec(timeLine ?? '')?.[1];
  if (!ORIGIN_RE.test(origin ?? '') || !Number.isSafeInteger(size) || root.length !== 32 || !time || lines.length !== 4)
    return { ok: false, problem: 'it is not a fleetpass checkpoint (origin, size, root, time)' };
  if (origin !== v.name) return { ok: false, problem: `it is a checkpoint of another log (${origin})` };
  let signed = false;
  for (const line of note.slice(split + 2).split('\n')) {
    if (!line) continue;
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/.exec(line);
    if (!m) return { ok: false, problem: 'a signature line is malformed' };
    const sig = Buffer.from(m[2], 'base64');
    if (m[1] !== v.name || sig.length !== 68 || !sig.subarray(0, 4).equals(v.keyId)) continue;
    if (!verify(null, Buffer.from(text, 'utf8'), v.publicKey, sig.subarray(4)))
      return { ok: false, problem: 'its signature does not verify (the note was altered or forged)' };
    signed = true;
  }
  if (!signed) return { ok: false, problem: `it carries no signature by ${v.name}` };
  return { ok: true, checkpoint: { origin, size, root, time, note } };
}
