/** Orders text as Postgres' "C" collation does (UTF-8 bytes, i.e. code points). */
export function compareText(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Orders decimal strings of whole numbers (bigint columns) by value. */
export function compareDecimal(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * One page from per-shard pages: each shard answered at most `limit + 1` rows in `compare`
 * order after the cursor, so the first `limit` of all of them, merged, are the page's rows, and
 * there is more exactly when more than `limit` rows came back in all.
 */
export function mergePages<T>(
  pages: readonly (readonly T[])[],
  limit: number,
  compare: (a: T, b: T) => number,
): { rows: T[]; more: boolean } {
  const all = pages.flat().sort(compare);
  return { rows: all.slice(0, limit), more: all.length > limit };
}
