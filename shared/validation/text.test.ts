import { textProblem } from './text';

describe('textProblem', () => {
  it('accepts plain text in any script, tabs, and line breaks except in names', () => {
    for (const t of [
      'INC-1234 locked out after vacation',
      'Séquenceur 2 – laboratoire',
      '测序仪',
      'emoji 🧬 ok',
      'tab\tok',
      '',
      'line 1\nline 2\r\nline 3',
    ]) {
      expect(textProblem('the reason', t, { max: 100 })).toBeUndefined();
    }
    expect(textProblem('the hostname', 'line 1\nline 2', { max: 100, singleLine: true })).toMatch(
      /control character \(U\+000A\) at position 7/,
    );
    expect(textProblem('the hostname', 'a\r\nb', { max: 100, singleLine: true })).toMatch(/U\+000D/);
  });

  it('names control characters, terminal escapes, bidi overrides, invalid UTF-8 and lone surrogates', () => {
    expect(textProblem('the hostname', 'evil\u001b[31m', { max: 100 })).toBe(
      'the hostname contains a control character (U+001B) at position 5; use plain printable text',
    );
    expect(textProblem('x', 'a\u0000b', { max: 100 })).toMatch(/U\+0000/);
    expect(textProblem('x', 'a\u0085b', { max: 100 })).toMatch(/U\+0085/);
    expect(textProblem('x', 'overwritten\rforged', { max: 100 })).toMatch(/U\+000D\) at position 12/);
    expect(textProblem('x', 'abc\u202etxt.exe', { max: 100 })).toMatch(/bidirectional control character \(U\+202E\)/);
    expect(textProblem('x', Buffer.from([0x61, 0xff, 0x62]).toString('utf8'), { max: 100 })).toMatch(/invalid UTF-8/);
    expect(textProblem('x', 'a\ud800b', { max: 100 })).toMatch(/lone UTF-16 surrogate/);
  });

  it('refuses text over the length limit', () => {
    expect(textProblem('the reason', 'x'.repeat(501), { max: 500 })).toBe('the reason is longer than 500 characters');
  });
});
