import { generateKeyPairSync } from 'node:crypto';
import { openCheckpoint, parseVkey, signCheckpoint, verifierFor } from './signed-checkpoint';

const keys = () => generateKeyPairSync('ed25519');

describe('signed checkpoints (C2SP signed note)', () => {
  const { privateKey, publicKey } = keys();
  const v = verifierFor(publicKey);
  const cp = { origin: v.name, size: 42, root: Buffer.alloc(32, 7), time: '2026-12-02T15:00:00.000Z' };

  it('signs in the tlog-checkpoint text format and opens again with the vkey', () => {
    const s = signCheckpoint(cp, privateKey, v);
    const lines = s.note.split('\n');
    expect(lines.slice(0, 5)).toEqual([v.name, '42', Buffer.alloc(32, 7).toString('base64'), `time ${cp.time}`, '']);
    expect(lines[5]).toMatch(new RegExp(`^\u2014 ${v.name.replace('/', '\\/')} [A-Za-z0-9+/]{91}=$`));
    const opened = openCheckpoint(s.note, parseVkey(v.vkey));
    expect(opened).toMatchObject({ ok: true, checkpoint: { size: 42, time: cp.time } });
  });

  it('refuses an altered size, another key and a note without a signature', () => {
    const s = signCheckpoint(cp, privateKey, v);
    expect(openCheckpoint(s.note.replace('\n42\n', '\n41\n'), v)).toEqual({
      ok: false,
      problem: 'its signature does not verify (the note was altered or forged)',
    });
    const other = keys();
    const ov = verifierFor(other.publicKey);
    const forged = signCheckpoint({ ...cp, origin: ov.name }, other.privateKey, ov);
    expect(openCheckpoint(forged.note.split(ov.name).join(v.name), v)).toMatchObject({ ok: false });
    expect(openCheckpoint(s.note.slice(0, s.note.indexOf('\n\n') + 2), v)).toMatchObject({
      ok: false,
      problem: `it carries no signature by ${v.name}`,
    });
  });

  it('refuses a vkey that does not match its key id', () => {
    const bad = v.vkey.replace(/\+([0-9a-f]{8})\+/, '+00000000+');
    expect(() => parseVkey(bad)).toThrow(expect.objectContaining({ code: 'FP_AUDIT_KEY_INVALID' }));
  });
});
