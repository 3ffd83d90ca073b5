import { fromPgJson, fromPgText, toPgJson, toPgText } from './postgres-text';

describe('text at the Postgres boundary', () => {
  it('leaves text without NUL or U+0001 as it is', () => {
    for (const s of ['', 'Lamp', 'café ☕ 😀', 'a\tb\nc', 'back\\slash 0 1']) {
      expect(toPgText(s)).toBe(s);
      expect(fromPgText(s)).toBe(s);
    }
  });

  it('stores no NUL, and gives back exactly what it was given', () => {
    for (const s of [
      'a\u0000b',
      '\u0000',
      '\u0001',
      '\u00010',
      '\u0000\u0001\u00001',
      'x\u0001\u0001y',
    ]) {
      const stored = toPgText(s);
      expect(stored).not.toContain('\u0000');
      expect(fromPgText(stored)).toBe(s);
    }
    // Distinct inputs stay distinct (equality lookups on stored text stay exact).
    expect(toPgText('\u0000')).not.toBe(toPgText('\u00010'));
  });

  it('encodes every string of a JSON value, keys too, reversibly', () => {
    const value = {
      reason: 'a\u0000b',
      lines: [{ productId: 'p\u0000' }],
      n: 1,
      ok: true,
      none: null,
      'k\u0000': 'v',
    };
    const stored = toPgJson(value);
    expect(JSON.stringify(stored)).not.toContain('\\u0000');
    expect(fromPgJson(stored)).toEqual(value);
  });
});
