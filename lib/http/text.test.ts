import { freeText, identifier, lineText, textFault } from './text';

describe('text the HTTP APIs accept', () => {
  it('refuses NUL, C0 and C1 controls and DEL, naming the character and where it is', () => {
    expect(textFault('a\u0000b')).toBe('must not contain NUL (U+0000 at index 1)');
    for (const c of ['\u0001', '\u001b', '\u007f', '\u0085', '\u009f', '\t', '\n', '\r']) {
      expect(textFault(`x${c}`)).toMatch(
        /^must not contain a control character \(U\+00[0-9A-F]{2} at index 1\)$/,
      );
    }
    expect(textFault('ab\uD800')).toMatch(/lone surrogate/);
  });

  it('lets free text span lines, and anything printable through', () => {
    expect(textFault('two\nlines\r\nand\ta tab', 'free')).toBeUndefined();
    expect(textFault('bell\u0007', 'free')).toMatch(/U\+0007/);
    for (const s of ['', 'Mug', 'café ☕ 😀', 'a\u00a0b', 'שלום', 'a\u2028b']) {
      expect(textFault(s)).toBeUndefined();
    }
  });

  it('builds zod schemas that say why', () => {
    expect(identifier().safeParse('p-1').success).toBe(true);
    expect(identifier().safeParse('p\u0000').error?.issues[0]?.message).toMatch(/NUL/);
    expect(lineText(10).parse('  Mug  ')).toBe('Mug');
    expect(lineText(10).safeParse('M\nug').success).toBe(false);
    expect(freeText(20).parse('a\nb')).toBe('a\nb');
    expect(freeText(20, { nonEmpty: true }).safeParse('   ').success).toBe(false);
  });
});
