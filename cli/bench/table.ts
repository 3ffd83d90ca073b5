/** The bench's printed table: sections of figure · value · detail rows, aligned. */

export type Row = { section: string } | { figure: string; value: string; detail?: string };

/** 12345.6 → "12,346"; non-finite → "—". */
export function int(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A number with `digits` decimals (a ratio, ms per order). */
export function dec(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return n.toFixed(digits);
}

/** Two significant digits (a ratio that may be tiny): 0.18, 0.0064, 12. */
export function significant(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n === 0) return '0';
  return n >= 100 ? int(n) : String(Number(n.toPrecision(2)));
}

/** Milliseconds as "850 ms" or "12.3 s"; null (no answer in time) as "no answer". */
export function ms(n: number | null | undefined): string {
  if (n === null || n === undefined) return 'no answer';
  return n < 1000 ? `${dec(n, n < 10 ? 1 : 0)} ms` : `${dec(n / 1000, 1)} s`;
}

export function renderTable(rows: Row[]): string {
  const figures = rows.flatMap((r) => ('figure' in r ? [r] : []));
  const figureWidth = Math.max(0, ...figures.map((r) => r.figure.length));
  const valueWidth = Math.max(0, ...figures.map((r) => r.value.length));
  const width = figureWidth + valueWidth + 6;
  const lines: string[] = [];
  for (const row of rows) {
    if ('section' in row) {
      if (lines.length > 0) lines.push('');
      lines.push(row.section, '─'.repeat(Math.max(width, row.section.length)));
      continue;
    }
    const line = `  ${row.figure.padEnd(figureWidth)}  ${row.value.padStart(valueWidth)}`;
    lines.push(row.detail ? `${line}  ${row.detail}` : line);
  }
  return `${lines.join('\n')}\n`;
}
