import { dec, int, ms, renderTable, significant } from './table';

describe('table formatting', () => {
  it('formats whole numbers with thousands separators and unknowns as a dash', () => {
    expect(int(1234567.6)).toBe('1,234,568');
    expect(int(999)).toBe('999');
    expect(int(0)).toBe('0');
    expect(int(null)).toBe('—');
    expect(int(Number.NaN)).toBe('—');
  });

  it('formats decimals and durations', () => {
    expect(dec(0.123456)).toBe('0.12');
    expect(dec(3, 1)).toBe('3.0');
    expect(dec(undefined)).toBe('—');
    expect(ms(4.26)).toBe('4.3 ms');
    expect(ms(850.4)).toBe('850 ms');
    expect(ms(12_345)).toBe('12.3 s');
    expect(ms(null)).toBe('no answer');
    expect(significant(0.18345)).toBe('0.18');
    expect(significant(0.0006449)).toBe('0.00064');
    expect(significant(12.34)).toBe('12');
    expect(significant(1234.5)).toBe('1,235');
    expect(significant(0)).toBe('0');
  });

  it('aligns figures left and values right under each section', () => {
    const text = renderTable([
      { section: 'raw: kafkajs' },
      { figure: 'produce', value: '45,000 msg/s', detail: '200,000 msgs' },
      { figure: 'tx of 1 msg, 6 producers', value: '900 tx/s' },
      { section: 'end to end' },
      { figure: 'orders', value: '1 /s' },
    ]);
    expect(text.split('\n')).toEqual([
      'raw: kafkajs',
      '─'.repeat(42),
      '  produce                   45,000 msg/s  200,000 msgs',
      '  tx of 1 msg, 6 producers      900 tx/s',
      '',
      'end to end',
      '─'.repeat(42),
      '  orders                            1 /s',
      '',
    ]);
  });
});
