/**
 * Postgres `text` and `jsonb` cannot hold U+0000 (NUL), but an event in the log may (the log
 * is the truth, older events included): a read model must store what the log says, so text
 * crosses the Postgres boundary in a reversible encoding. U+0001 is the escape: NUL is
 * stored as U+0001 '0' and U+0001 itself as U+0001 '1'. Text without either (everything the
 * APIs accept today) is stored unchanged, so lookups, sorting and indexes behave as before.
 * The projectors encode what they write; the query API encodes what it looks up and decodes
 * what it answers.
 */

const ESCAPE = '\u0001';
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL and U+0001 are what is encoded
const NEEDS_ENCODING = /[\u0000\u0001]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0001 is the escape
const ENCODED = /\u0001([01])/g;

/** `value` as it is stored in a Postgres text column. */
export function toPgText(value: string): string {
  return value.replace(NEEDS_ENCODING, (c) => (c === ESCAPE ? `${ESCAPE}1` : `${ESCAPE}0`));
}

/** A stored text column's value as the log had it (inverse of toPgText). */
export function fromPgText(value: string): string {
  return value.includes(ESCAPE)
    ? value.replace(ENCODED, (_m, code: string) => (code === '0' ? '\u0000' : ESCAPE))
    : value;
}

/** `fromPgText` of a nullable column. */
export const fromPgTextOrNull = (value: string | null): string | null =>
  value === null ? null : fromPgText(value);

function mapStrings(value: unknown, map: (s: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, map));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [map(k), mapStrings(v, map)]));
  }
  return value;
}

/** A JSON value with every string (keys too) encoded for a `jsonb` column. */
export const toPgJson = (value: unknown): unknown => mapStrings(value, toPgText);

/** A `jsonb` column's value with every string decoded (inverse of toPgJson). */
export const fromPgJson = (value: unknown): unknown => mapStrings(value, fromPgText);
